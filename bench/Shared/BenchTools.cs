global using HomeIQ.Bench;
global using static HomeIQ.Bench.BenchTools;
using System.Globalization;

namespace HomeIQ.Bench;

/// <summary>What every benchmark program needs: its command-line numbers, medians and percentiles (linked into each by bench/Directory.Build.props).</summary>
internal static class BenchTools
{
    /// <summary>The integer after <paramref name="name"/> on the command line, or <paramref name="fallback"/>.</summary>
    public static int Arg(string name, int fallback)
    {
        var args = Environment.GetCommandLineArgs();
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The median (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The <paramref name="p"/> quantile (0–1) of already sorted values; NaN when there are none.</summary>
    public static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * p))];
}
