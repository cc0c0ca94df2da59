using HomeIQ.Anomalies;
using HomeIQ.Anomalies.Apis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapAnomaliesApi();

app.Run();
