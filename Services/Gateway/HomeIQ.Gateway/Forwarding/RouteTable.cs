using Microsoft.Extensions.Options;

namespace HomeIQ.Gateway.Forwarding;

/// <summary>Matches request paths against the configured routes, in order; <c>*</c> is one segment, a trailing <c>**</c> the rest.</summary>
internal sealed class RouteTable(IOptionsMonitor<GatewayOptions> options)
{
    public RouteEntry? Match(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return options.CurrentValue.Routes.FirstOrDefault(r => Matches(r.Path.Split('/', StringSplitOptions.RemoveEmptyEntries), segments));
    }

    internal static bool Matches(string[] pattern, string[] segments)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            if (pattern[i] == "**")
            {
                return segments.Length > i;
            }
            if (i >= segments.Length || (pattern[i] != "*" && !string.Equals(pattern[i], segments[i], StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }
        }
        return segments.Length == pattern.Length;
    }
}
