using System.Collections;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
if (builder.Configuration.GetConnectionString("db") is not null)
{
    builder.AddNpgsqlDataSource("db");
}

var app = builder.Build();
app.MapDefaultEndpoints();

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
// What a proxy in front of this service forwarded: the headers as received.
app.MapGet("/api/v1/echo/headers", (HttpRequest request) => request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()));

app.Run();
