using HomeIQ.Devices;
using HomeIQ.Devices.Apis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapRoomsApi();
app.MapDevicesApi();
app.MapInternalApi();

app.Run();
