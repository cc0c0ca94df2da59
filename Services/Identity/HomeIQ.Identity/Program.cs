using HomeIQ.Identity;
using HomeIQ.Identity.Apis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapAuthApi();
app.MapHomesApi();
app.MapInternalApi();

app.Run();
