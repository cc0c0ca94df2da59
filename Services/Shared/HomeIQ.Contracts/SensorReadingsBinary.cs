using System.Buffers.Binary;
using System.Text;

namespace HomeIQ.Contracts;

/// <summary>
/// The compact body of <see cref="SensorReadingsReceived"/> on the broker, content type <see cref="ContentType"/>: about 45 bytes a
/// reading against about 150 as JSON, written and read without a parser. Consumers pick the decoder by the message's content type,
/// so JSON bodies of the same event stay readable.
/// <para>Layout, little-endian throughout (version 1):</para>
/// <code>
/// byte     version (1)
/// 16       event id (Guid bytes)        int64  occurred-at, UTC ticks     16  home id
/// string   source
/// varint   n strings, then n strings    (the distinct metrics and units of the batch)
/// varint   n readings, then per reading:
///   16 device id · varint metric index · varint unit index · float64 value · int64 timestamp, UTC ticks ·
///   int16 offset in minutes · byte flags (1 = a sequence follows) · [int64 sequence]
/// string = varint byte length + UTF-8
/// </code>
/// A body that does not follow this layout is an <see cref="InvalidDataException"/>.
/// <para>
/// Several batches (of any homes) travel in one message as a set, content type <see cref="SetContentType"/>: a varint count (at least
/// one), then per batch a varint length and its body as above. Each batch keeps its own event id, so consumers handle it as if it had
/// come alone; the broker's cost is mostly per message, so a set of four costs it less than half as much a reading.
/// </para>
/// </summary>
public static class SensorReadingsBinary
{
    /// <summary>The content type of the body; the version is part of it and the body's first byte.</summary>
    public const string ContentType = "application/vnd.homeiq.readings+binary; v=1";

    /// <summary>The content type of a set of bodies in one message (see <see cref="WriteSet"/>).</summary>
    public const string SetContentType = "application/vnd.homeiq.readings-set+binary; v=1";

    /// <summary>Writes <paramref name="events"/> (at least one) as one set body: each event's own body, behind its length.</summary>
    public static byte[] WriteSet(IReadOnlyList<SensorReadingsReceived> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            throw new ArgumentException("A set holds at least one batch.", nameof(events));
        }
        var bodies = new byte[events.Count][];
        var size = VarIntSize((uint)events.Count);
        for (var i = 0; i < bodies.Length; i++)
        {
            bodies[i] = Write(events[i]);
            size += VarIntSize((uint)bodies[i].Length) + bodies[i].Length;
        }
        var set = new byte[size];
        var at = WriteVarInt(set, (uint)bodies.Length);
        foreach (var body in bodies)
        {
            at += WriteVarInt(set.AsSpan(at), (uint)body.Length);
            body.CopyTo(set, at);
            at += body.Length;
        }
        return set;
    }

    /// <summary>Reads a body written by <see cref="WriteSet"/>; throws <see cref="InvalidDataException"/> when it does not follow the layout.</summary>
    public static SensorReadingsReceived[] ReadSet(ReadOnlySpan<byte> body)
    {
        var reader = new Reader(body);
        var count = reader.Count(1 + HeaderSize);
        if (count == 0)
        {
            throw new InvalidDataException("A set of readings bodies holds no batch.");
        }
        var events = new SensorReadingsReceived[count];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = Read(reader.Bytes());
        }
        return reader.AtEnd ? events : throw new InvalidDataException("The set of readings bodies has bytes after its last batch.");
    }

    private const byte Version = 1;
    private const int HeaderSize = 1 + 16 + 8 + 16;
    private const int FixedPerReading = 16 + 8 + 8 + 2 + 1;
    private const int MinPerReading = FixedPerReading + 2;

    /// <summary>Writes <paramref name="event"/> as one body of exactly the needed length.</summary>
    public static byte[] Write(SensorReadingsReceived @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var readings = @event.Readings ?? [];
        // The string table: the batch's distinct metrics and units, usually a handful for a thousand readings.
        var table = new Dictionary<string, int>(StringComparer.Ordinal);
        var strings = new List<string>();
        var indexes = new (int Metric, int Unit)[readings.Count];
        var size = HeaderSize + StringSize(@event.Source ?? "");
        string? lastMetric = null, lastUnit = null;
        int lastMetricIndex = 0, lastUnitIndex = 0;
        for (var i = 0; i < readings.Count; i++)
        {
            var reading = readings[i] ?? throw new ArgumentException($"Readings[{i}] is null.", nameof(@event));
            var metric = reading.Metric ?? "";
            var unit = reading.Unit ?? "";
            if (!string.Equals(metric, lastMetric, StringComparison.Ordinal))
            {
                (lastMetric, lastMetricIndex) = (metric, Intern(metric));
            }
            if (!string.Equals(unit, lastUnit, StringComparison.Ordinal))
            {
                (lastUnit, lastUnitIndex) = (unit, Intern(unit));
            }
            indexes[i] = (lastMetricIndex, lastUnitIndex);
            size += FixedPerReading + VarIntSize((uint)lastMetricIndex) + VarIntSize((uint)lastUnitIndex) + (reading.Sequence is null ? 0 : 8);
        }
        size += VarIntSize((uint)strings.Count) + VarIntSize((uint)readings.Count);
        foreach (var s in strings)
        {
            size += StringSize(s);
        }

        var body = new byte[size];
        var span = body.AsSpan();
        var at = 0;
        span[at++] = Version;
        @event.Id.TryWriteBytes(span[at..]);
        at += 16;
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], @event.OccurredAt.UtcTicks);
        at += 8;
        @event.HomeId.TryWriteBytes(span[at..]);
        at += 16;
        at += WriteString(span[at..], @event.Source ?? "");
        at += WriteVarInt(span[at..], (uint)strings.Count);
        foreach (var s in strings)
        {
            at += WriteString(span[at..], s);
        }
        at += WriteVarInt(span[at..], (uint)readings.Count);
        for (var i = 0; i < readings.Count; i++)
        {
            var reading = readings[i];
            reading.DeviceId.TryWriteBytes(span[at..]);
            at += 16;
            at += WriteVarInt(span[at..], (uint)indexes[i].Metric);
            at += WriteVarInt(span[at..], (uint)indexes[i].Unit);
            BinaryPrimitives.WriteDoubleLittleEndian(span[at..], reading.Value);
            at += 8;
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], reading.Timestamp.UtcTicks);
            at += 8;
            BinaryPrimitives.WriteInt16LittleEndian(span[at..], (short)reading.Timestamp.TotalOffsetMinutes);
            at += 2;
            if (reading.Sequence is { } sequence)
            {
                span[at++] = 1;
                BinaryPrimitives.WriteInt64LittleEndian(span[at..], sequence);
                at += 8;
            }
            else
            {
                span[at++] = 0;
            }
        }
        return at == body.Length ? body : throw new InvalidOperationException("The readings body was sized wrongly.");

        int Intern(string s)
        {
            if (!table.TryGetValue(s, out var index))
            {
                index = strings.Count;
                table.Add(s, index);
                strings.Add(s);
            }
            return index;
        }
    }

    /// <summary>Reads a body written by <see cref="Write"/>; throws <see cref="InvalidDataException"/> when it does not follow the layout.</summary>
    public static SensorReadingsReceived Read(ReadOnlySpan<byte> body)
    {
        var reader = new Reader(body);
        var version = reader.Byte();
        if (version != Version)
        {
            throw new InvalidDataException($"Readings body version {version} is not known (this service reads version {Version}).");
        }
        var id = reader.Guid();
        var occurredAt = reader.Ticks(0);
        var homeId = reader.Guid();
        var source = reader.String();
        var strings = new string[reader.Count(1)];
        for (var i = 0; i < strings.Length; i++)
        {
            strings[i] = reader.String();
        }
        var readings = new SensorReading[reader.Count(MinPerReading)];
        for (var i = 0; i < readings.Length; i++)
        {
            var deviceId = reader.Guid();
            var metric = reader.Index(strings);
            var unit = reader.Index(strings);
            var value = reader.Double();
            var ticks = reader.Long();
            var offset = reader.Short();
            var timestamp = reader.Timestamp(ticks, offset);
            long? sequence = reader.Byte() switch
            {
                0 => null,
                1 => reader.Long(),
                var flags => throw new InvalidDataException($"Reading {i} has unknown flags {flags}."),
            };
            readings[i] = new SensorReading(deviceId, metric, value, unit, timestamp, sequence);
        }
        if (!reader.AtEnd)
        {
            throw new InvalidDataException("The readings body has bytes after its last reading.");
        }
        return new SensorReadingsReceived(homeId, source, readings) { Id = id, OccurredAt = occurredAt };
    }

    private static int StringSize(string s)
    {
        var bytes = Encoding.UTF8.GetByteCount(s);
        return VarIntSize((uint)bytes) + bytes;
    }

    private static int VarIntSize(uint value)
    {
        var size = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            size++;
        }
        return size;
    }

    private static int WriteVarInt(Span<byte> span, uint value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            span[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[at++] = (byte)value;
        return at;
    }

    private static int WriteString(Span<byte> span, string s)
    {
        var bytes = Encoding.UTF8.GetByteCount(s);
        var at = WriteVarInt(span, (uint)bytes);
        return at + Encoding.UTF8.GetBytes(s, span[at..]);
    }

    private ref struct Reader(ReadOnlySpan<byte> body)
    {
        private readonly ReadOnlySpan<byte> _body = body;
        private int _at;

        public readonly bool AtEnd => _at == _body.Length;

        public byte Byte() => Take(1)[0];

        public Guid Guid() => new(Take(16));

        public long Long() => BinaryPrimitives.ReadInt64LittleEndian(Take(8));

        public short Short() => BinaryPrimitives.ReadInt16LittleEndian(Take(2));

        public double Double() => BinaryPrimitives.ReadDoubleLittleEndian(Take(8));

        public DateTimeOffset Ticks(short offsetMinutes) => Timestamp(Long(), offsetMinutes);

        public readonly DateTimeOffset Timestamp(long utcTicks, short offsetMinutes)
        {
            var offset = TimeSpan.FromMinutes(offsetMinutes);
            if (utcTicks < DateTime.MinValue.Ticks || utcTicks > DateTime.MaxValue.Ticks || offsetMinutes is < -840 or > 840
                || utcTicks + offset.Ticks < DateTime.MinValue.Ticks || utcTicks + offset.Ticks > DateTime.MaxValue.Ticks)
            {
                throw new InvalidDataException($"A timestamp of the readings body is out of range ({utcTicks} ticks, offset {offsetMinutes} min).");
            }
            return new DateTimeOffset(utcTicks + offset.Ticks, offset);
        }

        /// <summary>A count of items that each take at least <paramref name="minItemSize"/> bytes, checked against what is left.</summary>
        public int Count(int minItemSize)
        {
            var count = VarInt();
            if (count > (uint)(_body.Length - _at) / (uint)minItemSize)
            {
                throw new InvalidDataException($"The readings body announces {count} items but is too short for them.");
            }
            return (int)count;
        }

        public string Index(string[] strings)
        {
            var index = VarInt();
            return index < (uint)strings.Length ? strings[index] : throw new InvalidDataException($"String index {index} lies outside the table of {strings.Length}.");
        }

        /// <summary>A varint length, then that many bytes.</summary>
        public ReadOnlySpan<byte> Bytes()
        {
            var length = VarInt();
            return length <= (uint)(_body.Length - _at) ? Take((int)length) : throw new InvalidDataException("A body runs past the end of the set.");
        }

        public string String()
        {
            var length = VarInt();
            if (length > (uint)(_body.Length - _at))
            {
                throw new InvalidDataException("A string runs past the end of the readings body.");
            }
            try
            {
                return Strict.GetString(Take((int)length));
            }
            catch (DecoderFallbackException ex)
            {
                throw new InvalidDataException("A string of the readings body is not UTF-8.", ex);
            }
        }

        private uint VarInt()
        {
            uint value = 0;
            for (var shift = 0; shift < 35; shift += 7)
            {
                var b = Byte();
                value |= (uint)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
            throw new InvalidDataException("A length of the readings body is longer than 5 bytes.");
        }

        private ReadOnlySpan<byte> Take(int count)
        {
            if (_body.Length - _at < count)
            {
                throw new InvalidDataException("The readings body ends early.");
            }
            var slice = _body.Slice(_at, count);
            _at += count;
            return slice;
        }
    }

    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
