namespace HomeIQ.Anomalies.Detection;

/// <summary>
/// Physical limits per metric and unit. Ingestion already rejects values outside a device's declared capability range, so only
/// what no sensor of the metric can measure is judged here: a value outside [Min, Max], or a change of at least MinStep faster
/// than MaxRatePerSecond (a room does not warm by 30 °C in a minute).
/// </summary>
internal sealed record PlausibleLimits(double Min, double Max, double MaxRatePerSecond, double MinStep)
{
    private static readonly Dictionary<(string Metric, string Unit), PlausibleLimits> Known = new()
    {
        [("temperature", "°C")] = new(-90, 150, 10.0 / 60, 5),
        [("temperature", "°F")] = new(-130, 302, 18.0 / 60, 9),
        [("humidity", "%")] = new(0, 100, 50.0 / 60, 30),
        [("battery", "%")] = new(0, 100, double.PositiveInfinity, 0),
        [("co2", "ppm")] = new(0, 100_000, double.PositiveInfinity, 0),
        [("pressure", "hPa")] = new(300, 1_100, 5.0 / 60, 5),
        [("illuminance", "lx")] = new(0, 200_000, double.PositiveInfinity, 0),
        [("energy", "kWh")] = new(0, double.PositiveInfinity, double.PositiveInfinity, 0),
    };

    public static PlausibleLimits? For(string metric, string unit) => Known.GetValueOrDefault((metric, unit));
}
