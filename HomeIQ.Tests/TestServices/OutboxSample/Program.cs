using HomeIQ.Contracts;
using HomeIQ.EventBus;
using HomeIQ.EventBus.Postgres;
using Npgsql;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("outboxdb");
builder.AddEventBus("messaging").AddPostgresOutbox();

var app = builder.Build();
app.MapDefaultEndpoints();

await using (var create = app.Services.GetRequiredService<NpgsqlDataSource>().CreateCommand(
                 "CREATE TABLE IF NOT EXISTS sample_orders (id uuid PRIMARY KEY, placed_at timestamptz NOT NULL DEFAULT now())"))
{
    await create.ExecuteNonQueryAsync();
}

// The business change and its event commit together; the relay publishes the event afterwards.
app.MapPost("/orders", async (NpgsqlDataSource db, Outbox outbox, CancellationToken ct) =>
{
    var placed = new SampleOrderPlaced(Guid.NewGuid());
    await using var connection = await db.OpenConnectionAsync(ct);
    await using var transaction = await connection.BeginTransactionAsync(ct);
    await using (var insert = new NpgsqlCommand("INSERT INTO sample_orders (id) VALUES ($1)", connection, transaction) { Parameters = { new() { Value = placed.OrderId } } })
    {
        await insert.ExecuteNonQueryAsync(ct);
    }
    await outbox.AddAsync(connection, transaction, placed, ct);
    await transaction.CommitAsync(ct);
    return TypedResults.Accepted($"/orders/{placed.OrderId}", placed);
});
app.MapPost("/outbox/pause", (OutboxRelay relay) => relay.Pause());
app.MapGet("/pid", () => Environment.ProcessId);

app.Run();

[EventName("sample.order-placed.v1")]
internal sealed record SampleOrderPlaced(Guid OrderId) : IntegrationEvent;
