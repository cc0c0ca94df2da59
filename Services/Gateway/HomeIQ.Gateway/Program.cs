using HomeIQ.Gateway;
using HomeIQ.Gateway.Apis;
using HomeIQ.Gateway.Forwarding;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.UseGatewayEdge();
app.UseWebSockets();
app.MapOverviewApi();
app.MapMergedOpenApi();
app.MapForwardedRoutes();

app.Run();
