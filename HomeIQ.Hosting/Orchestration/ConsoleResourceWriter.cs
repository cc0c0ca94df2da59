namespace HomeIQ.Hosting.Orchestration;

/// <summary>Writes resource output to the AppHost console as <c>name | line</c>, each resource in its own colour.</summary>
internal sealed class ConsoleResourceWriter
{
    private static readonly string[] Colours = ["\e[36m", "\e[35m", "\e[33m", "\e[32m", "\e[34m", "\e[96m", "\e[95m", "\e[93m"];
    private readonly Dictionary<string, string> _colourOf = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private readonly bool _colour = !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null;

    public void Write(LogLine line)
    {
        lock (_gate)
        {
            if (!_colourOf.TryGetValue(line.Resource, out var colour))
            {
                colour = Colours[_colourOf.Count % Colours.Length];
                _colourOf[line.Resource] = colour;
            }
            var name = line.Resource.PadRight(12);
            Console.Out.WriteLine(_colour ? $"{colour}{name}\e[0m| {line.Text}" : $"{name}| {line.Text}");
        }
    }
}
