using HomeIQ.Gateway;
using HomeIQ.Gateway.Apis;
using HomeIQ.Gateway.Edge;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.UseGatewayEdge();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter(); // after authentication: the buckets are per user
app.MapOverviewApi();
app.MapMergedOpenApi();
app.MapReverseProxy(proxy =>
{
    proxy.Use(ForwardingProblems.DescribeAsync);
    proxy.UseSessionAffinity();
    proxy.UseLoadBalancing();
    proxy.UsePassiveHealthChecks();
});

app.Run();
