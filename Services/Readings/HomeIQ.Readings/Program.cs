using HomeIQ.Readings;
using HomeIQ.Readings.Apis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapReadingsApi();

app.Run();
