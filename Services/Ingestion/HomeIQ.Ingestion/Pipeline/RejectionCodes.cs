namespace HomeIQ.Ingestion.Pipeline;

/// <summary>The stable codes of <see cref="RejectedReading.Code"/>: clients may switch on them; messages are for people.</summary>
public static class RejectionCodes
{
    /// <summary>The device does not exist, or belongs to another home (the two are indistinguishable on purpose).</summary>
    public const string UnknownDevice = "unknown-device";

    /// <summary>The device has no capability with that metric.</summary>
    public const string UnknownMetric = "unknown-metric";

    /// <summary>The unit differs from the capability's.</summary>
    public const string UnitMismatch = "unit-mismatch";

    /// <summary>The value lies outside the capability's [min, max].</summary>
    public const string OutOfRange = "out-of-range";

    /// <summary>The value is NaN or infinite.</summary>
    public const string NotFinite = "not-finite";

    /// <summary>The timestamp lies further in the future than the allowed clock skew.</summary>
    public const string FutureTimestamp = "future-timestamp";

    /// <summary>The timestamp is older than the allowed age.</summary>
    public const string TooOld = "too-old";

    /// <summary>The reading itself is malformed (empty or overlong metric or unit, missing field in a stream frame…).</summary>
    public const string Invalid = "invalid";
}
