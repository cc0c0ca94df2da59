using System.Collections;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
if (builder.Configuration.GetConnectionString("db") is not null)
{
    builder.AddNpgsqlDataSource("db");
}

var app = builder.Build();
app.MapDefaultEndpoints();
app.UseWebSockets();

// Everything the AppHost is expected to inject, for the tests to compare with the contract.
string[] prefixes = ["ConnectionStrings__", "services__", "ASPNETCORE_", "DOTNET_ENVIRONMENT", "OTEL_", "LOGGING__", "HOMEIQ_"];
app.MapGet("/env", () => Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
    .Where(e => prefixes.Any(p => ((string)e.Key).StartsWith(p, StringComparison.Ordinal)))
    .ToDictionary(e => (string)e.Key, e => (string?)e.Value));
app.MapGet("/pid", (ILogger<Program> logger) =>
{
    logger.LogInformation("Echo answered its process id {Pid}", Environment.ProcessId);
    return Environment.ProcessId;
});
app.MapGet("/args", () => Environment.GetCommandLineArgs().Skip(1));
// A JSON body bound by the framework, for the bad-input logging test.
app.MapPost("/json", (EchoBody body) => body);
// What a proxy in front of this service forwarded: the headers as received.
app.MapGet("/api/v1/echo/headers", (HttpRequest request) => request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()));
// A WebSocket for proxy tests: ?status=N refuses the upgrade with N (and ?retryAfter=S); otherwise it first sends the forwarded
// headers as JSON, then echoes every message; the text "close:CODE" makes it close with that status.
app.Map("/api/v1/echo/ws", async (HttpContext context) =>
{
    if (int.TryParse(context.Request.Query["status"], out var refuse))
    {
        context.Response.Headers.RetryAfter = context.Request.Query["retryAfter"].ToString();
        await Results.Problem(statusCode: refuse).ExecuteAsync(context);
        return;
    }
    if (!context.WebSockets.IsWebSocketRequest)
    {
        await Results.Problem(statusCode: 400, detail: "WebSocket only.").ExecuteAsync(context);
        return;
    }
    using var socket = await context.WebSockets.AcceptWebSocketAsync();
    var headers = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()));
    await socket.SendAsync(headers, System.Net.WebSockets.WebSocketMessageType.Text, true, context.RequestAborted);
    var buffer = new byte[4096];
    using var message = new MemoryStream();
    while (true)
    {
        var received = await socket.ReceiveAsync(buffer, context.RequestAborted);
        if (received.MessageType == System.Net.WebSockets.WebSocketMessageType.Close)
        {
            await socket.CloseAsync(socket.CloseStatus ?? System.Net.WebSockets.WebSocketCloseStatus.NormalClosure, socket.CloseStatusDescription, context.RequestAborted);
            return;
        }
        message.Write(buffer, 0, received.Count);
        if (!received.EndOfMessage)
        {
            continue;
        }
        var text = received.MessageType == System.Net.WebSockets.WebSocketMessageType.Text ? System.Text.Encoding.UTF8.GetString(message.ToArray()) : "";
        if (text.StartsWith("close:", StringComparison.Ordinal))
        {
            await socket.CloseAsync((System.Net.WebSockets.WebSocketCloseStatus)int.Parse(text[6..], System.Globalization.CultureInfo.InvariantCulture), "asked to", context.RequestAborted);
            return;
        }
        await socket.SendAsync(message.ToArray(), received.MessageType, true, context.RequestAborted);
        message.SetLength(0);
    }
});

app.Run();

internal sealed record EchoBody(string Name, int Count);
