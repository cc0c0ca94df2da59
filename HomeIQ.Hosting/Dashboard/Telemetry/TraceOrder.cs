namespace HomeIQ.Hosting.Dashboard.Telemetry;

/// <summary>Orders a trace's spans for a waterfall: parents before children, siblings by start time.</summary>
internal static class TraceOrder
{
    /// <summary>Depth-first order with depths; spans whose parent is missing are roots, and cycles are broken.</summary>
    public static IReadOnlyList<(SpanEntry Span, int Depth)> DepthFirst(IReadOnlyList<SpanEntry> spans)
    {
        var ids = new HashSet<string>(spans.Select(s => s.SpanId), StringComparer.Ordinal);
        var children = new Dictionary<string, List<SpanEntry>>(StringComparer.Ordinal);
        var roots = new List<SpanEntry>();
        foreach (var span in spans)
        {
            if (span.ParentSpanId.Length == 0 || !ids.Contains(span.ParentSpanId) || span.ParentSpanId == span.SpanId)
            {
                roots.Add(span);
            }
            else if (children.TryGetValue(span.ParentSpanId, out var list))
            {
                list.Add(span);
            }
            else
            {
                children[span.ParentSpanId] = [span];
            }
        }
        var ordered = new List<(SpanEntry, int)>(spans.Count);
        var visited = new HashSet<SpanEntry>(ReferenceEqualityComparer.Instance);
        Visit(roots, children, visited, ordered);
        if (ordered.Count < spans.Count)
        {
            Visit([.. spans.Where(s => !visited.Contains(s))], children, visited, ordered);
        }
        return ordered;
    }

    private static void Visit(List<SpanEntry> roots, Dictionary<string, List<SpanEntry>> children, HashSet<SpanEntry> visited, List<(SpanEntry, int)> ordered)
    {
        var stack = new Stack<(SpanEntry Span, int Depth)>();
        foreach (var root in ByStartDescending(roots))
        {
            stack.Push((root, 0));
        }
        while (stack.Count > 0)
        {
            var (span, depth) = stack.Pop();
            if (!visited.Add(span))
            {
                continue;
            }
            ordered.Add((span, depth));
            if (children.TryGetValue(span.SpanId, out var list))
            {
                foreach (var child in ByStartDescending(list))
                {
                    stack.Push((child, depth + 1));
                }
            }
        }
    }

    private static IEnumerable<SpanEntry> ByStartDescending(List<SpanEntry> spans) =>
        spans.OrderByDescending(s => s.StartUnixNano).ThenByDescending(s => s.SpanId, StringComparer.Ordinal);
}
