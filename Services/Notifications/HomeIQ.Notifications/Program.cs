using HomeIQ.Notifications;
using HomeIQ.Notifications.Apis;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.MapDefaultEndpoints();
app.MapNotificationsApi();
app.MapPreferencesApi();
app.MapNotificationsHub();

app.Run();
