using HomeIQ.Energy;
using HomeIQ.Energy.Apis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapEnergyApi();

app.Run();
