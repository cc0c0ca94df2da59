using HomeIQ.Contracts;
using HomeIQ.EventBus;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddEventBus("messaging").AddSubscription<WorkDone, WorkDoneHandler>();
builder.Services.AddHttpClient("echo", c => c.BaseAddress = new Uri("http://echo"));

var app = builder.Build();
app.MapDefaultEndpoints();

// HTTP in → HTTP out to "echo" (through discovery) → publish → consume: one trace across two services and the broker.
app.MapPost("/work", async (IHttpClientFactory http, IEventBus bus, CancellationToken ct) =>
{
    var pid = await http.CreateClient("echo").GetStringAsync("/pid", ct);
    var done = new WorkDone(pid);
    await bus.PublishAsync(done, ct);
    return TypedResults.Ok(done);
});

app.Run();

[EventName("sample.work-done.v1")]
internal sealed record WorkDone(string EchoPid) : IntegrationEvent;

internal sealed class WorkDoneHandler(ILogger<WorkDoneHandler> logger) : IIntegrationEventHandler<WorkDone>
{
    public Task HandleAsync(WorkDone @event, CancellationToken cancellationToken)
    {
        logger.LogInformation("Work {EventId} done by echo process {EchoPid}", @event.Id, @event.EchoPid);
        return Task.CompletedTask;
    }
}
