using System.Buffers.Binary;

namespace HomeIQ.Anomalies.Detection;

/// <summary>
/// What the detector learned about one device metric, and where it is in an excursion or a still run. Serialised to a fixed
/// binary layout (<see cref="ToBytes"/>) so it survives restarts in one column; times are UTC ticks of reading timestamps.
/// </summary>
internal sealed class SeriesState
{
    private const byte LayoutVersion = 1;
    internal const int Size = 1 + 8 * 24 + 4 * 6 + 1;

    public long Count;
    public long LastTicks;
    public double LastValue;
    public double Level;
    /// <summary>The level's slope per second (Holt's linear trend), so a daily cycle is not mistaken for deviation.</summary>
    public double Trend;
    public double Scale;
    public double Quantum;
    public double Interval;
    public double IntervalDev;
    public int IntervalCount;
    public int ExcursionCount;
    public int ExcursionSign;
    public double ExcursionPeak;
    public double ExcursionPeakResidual;
    public long ExcursionStartTicks;
    public double ExcursionSum;
    public long RunStartTicks;
    public double MaxRunSeconds;
    public int Changes;
    public int NormalStreak;
    /// <summary>Set after a gap or the end of a stuck run: the next reading restarts the level instead of being judged against it.</summary>
    public bool Relearn;
    /// <summary>Which kinds are open on this series, one bit per <see cref="Contracts.AnomalyKind"/>.</summary>
    public int OpenMask;
    /// <summary>Per kind, the tick before which the kind is not raised again.</summary>
    public readonly long[] CooldownUntil = new long[5];
    /// <summary>Bumped on every save: the row is written only if nobody else saved it since it was loaded.</summary>
    public long Version;

    public bool IsOpen(Contracts.AnomalyKind kind) => (OpenMask & (1 << (int)kind)) != 0;

    public void SetOpen(Contracts.AnomalyKind kind, bool open) => OpenMask = open ? OpenMask | (1 << (int)kind) : OpenMask & ~(1 << (int)kind);

    public byte[] ToBytes()
    {
        var bytes = new byte[Size];
        var span = bytes.AsSpan();
        span[0] = LayoutVersion;
        var o = 1;
        foreach (var d in (ReadOnlySpan<double>)[LastValue, Level, Trend, Scale, Quantum, Interval, IntervalDev, ExcursionPeak, ExcursionPeakResidual, ExcursionSum, MaxRunSeconds])
        {
            BinaryPrimitives.WriteDoubleLittleEndian(span[o..], d);
            o += 8;
        }
        foreach (var l in (ReadOnlySpan<long>)[Count, LastTicks, ExcursionStartTicks, RunStartTicks, .. CooldownUntil, Version])
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[o..], l);
            o += 8;
        }
        o += 8 * 3; // reserved
        foreach (var i in (ReadOnlySpan<int>)[IntervalCount, ExcursionCount, ExcursionSign, Changes, NormalStreak, OpenMask])
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[o..], i);
            o += 4;
        }
        span[o] = Relearn ? (byte)1 : (byte)0;
        return bytes;
    }

    /// <summary>Reads what <see cref="ToBytes"/> wrote; an unknown layout starts the series afresh rather than failing the batch.</summary>
    public static SeriesState FromBytes(byte[] span)
    {
        var s = new SeriesState();
        if (span.Length != Size || span[0] != LayoutVersion)
        {
            return s;
        }
        var o = 1;
        double D() { var v = BinaryPrimitives.ReadDoubleLittleEndian(span.AsSpan(o)); o += 8; return v; }
        long L() { var v = BinaryPrimitives.ReadInt64LittleEndian(span.AsSpan(o)); o += 8; return v; }
        int I() { var v = BinaryPrimitives.ReadInt32LittleEndian(span.AsSpan(o)); o += 4; return v; }
        (s.LastValue, s.Level, s.Trend, s.Scale, s.Quantum, s.Interval, s.IntervalDev) = (D(), D(), D(), D(), D(), D(), D());
        (s.ExcursionPeak, s.ExcursionPeakResidual, s.ExcursionSum, s.MaxRunSeconds) = (D(), D(), D(), D());
        (s.Count, s.LastTicks, s.ExcursionStartTicks, s.RunStartTicks) = (L(), L(), L(), L());
        for (var k = 0; k < s.CooldownUntil.Length; k++)
        {
            s.CooldownUntil[k] = L();
        }
        s.Version = L();
        o += 8 * 3;
        (s.IntervalCount, s.ExcursionCount, s.ExcursionSign, s.Changes, s.NormalStreak, s.OpenMask) = (I(), I(), I(), I(), I(), I());
        s.Relearn = span[o] != 0;
        return s;
    }
}
