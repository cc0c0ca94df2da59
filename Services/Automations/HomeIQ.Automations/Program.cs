using HomeIQ.Automations;
using HomeIQ.Automations.Apis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
var automations = app.MapGroup("/api/v1/homes/{homeId:guid}/automations").WithTags("Automations");
automations.MapRulesApi();
automations.MapScenesApi();
automations.MapRunsApi();

app.Run();
