using System.Text.Json;
using HomeIQ.Contracts;
using HomeIQ.EventBus;

namespace HomeIQ.Tests.Contracts;

/// <summary>The compact broker body of a reading batch: what goes in comes out, and a damaged body is an error, never a guess.</summary>
public sealed class SensorReadingsBinaryTests
{
    private static SensorReadingsReceived Batch(int count = 6)
    {
        var metrics = new[] { ("temperature", "°C"), ("power", "W"), ("energy", "kWh"), ("humidity", "%"), ("pressure", ""), ("température extérieure", "°F") };
        var start = new DateTimeOffset(2026, 11, 26, 9, 30, 0, TimeSpan.FromHours(2)).AddTicks(1234567);
        var readings = Enumerable.Range(0, count).Select(i =>
        {
            var (metric, unit) = metrics[i % metrics.Length];
            var offset = TimeSpan.FromMinutes(i % 3 == 0 ? 0 : i % 3 == 1 ? 330 : -480);
            return new SensorReading(Guid.NewGuid(), metric, i * 1.25 - 40.0625, unit, start.AddSeconds(i).ToOffset(offset), i % 2 == 0 ? null : i * 1_000_000_007L);
        }).ToArray();
        return new SensorReadingsReceived(Guid.NewGuid(), "http", readings) { OccurredAt = DateTimeOffset.UtcNow };
    }

    [Fact]
    public void ABatchComesBackExactlyAsItWasWritten()
    {
        var sent = Batch(1000);

        var received = SensorReadingsBinary.Read(SensorReadingsBinary.Write(sent));

        Assert.Equal((sent.Id, sent.OccurredAt, sent.HomeId, sent.Source), (received.Id, received.OccurredAt, received.HomeId, received.Source));
        Assert.Equal(sent.Readings, received.Readings);
        // DateTimeOffset equality ignores the offset: the sender's offset survives too, and so does the tick.
        Assert.Equal(sent.Readings.Select(r => (r.Timestamp.Offset, r.Timestamp.Ticks)), received.Readings.Select(r => (r.Timestamp.Offset, r.Timestamp.Ticks)));
    }

    [Fact]
    public void TheBodyIsAThirdOfTheJsonOrLess()
    {
        var sent = Batch(1000);

        var binary = SensorReadingsBinary.Write(sent).Length;
        var json = JsonSerializer.SerializeToUtf8Bytes(sent, ContractsJsonContext.Default.SensorReadingsReceived).Length;

        Assert.True(binary * 3 <= json, $"binary {binary} bytes against JSON {json} bytes");
    }

    [Fact]
    public void AnEmptyBatchAndExtremeValuesRoundTrip()
    {
        var empty = new SensorReadingsReceived(Guid.NewGuid(), "", []);
        var extremes = new SensorReadingsReceived(Guid.NewGuid(), "mqtt", [
            new(Guid.Empty, "", double.MaxValue, "", DateTimeOffset.MinValue, long.MinValue),
            new(Guid.NewGuid(), new string('m', 300), double.Epsilon, "u", DateTimeOffset.MaxValue.ToOffset(TimeSpan.FromHours(-14)), long.MaxValue),
            new(Guid.NewGuid(), "nan", double.NaN, "x", DateTimeOffset.UnixEpoch.ToOffset(TimeSpan.FromHours(14)), 0),
        ]);

        Assert.Empty(SensorReadingsBinary.Read(SensorReadingsBinary.Write(empty)).Readings);
        var back = SensorReadingsBinary.Read(SensorReadingsBinary.Write(extremes));
        Assert.Equal(extremes.Readings, back.Readings);
        Assert.Equal(extremes.Readings.Select(r => r.Timestamp.Offset), back.Readings.Select(r => r.Timestamp.Offset));
    }

    [Fact]
    public void EveryTruncationOfABodyIsInvalidData()
    {
        var body = SensorReadingsBinary.Write(Batch(4));

        for (var length = 0; length < body.Length; length++)
        {
            var cut = body.AsSpan(0, length).ToArray();
            Assert.Throws<InvalidDataException>(() => SensorReadingsBinary.Read(cut));
        }
    }

    [Fact]
    public void AnUnknownVersionTrailingBytesAndRandomBytesAreInvalidData()
    {
        var body = SensorReadingsBinary.Write(Batch(3));
        var future = body.ToArray();
        future[0] = 2;
        var trailing = body.Concat(new byte[] { 0 }).ToArray();

        Assert.Contains("version 2", Assert.Throws<InvalidDataException>(() => SensorReadingsBinary.Read(future)).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidDataException>(() => SensorReadingsBinary.Read(trailing));
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var noise = body.ToArray();
            noise[random.Next(1, noise.Length)] ^= (byte)random.Next(1, 256);
            // A flipped byte either still reads (a value or an id changed) or is reported as invalid data: nothing else escapes.
            try
            {
                SensorReadingsBinary.Read(noise);
            }
            catch (InvalidDataException)
            {
            }
        }
    }

    [Fact]
    public void TheBusReadsABodyByItsContentType()
    {
        var sent = Batch(5);
        var (binary, binaryType) = EventBody.Write(sent);
        var json = JsonSerializer.SerializeToUtf8Bytes(sent, ContractsJsonContext.Default.SensorReadingsReceived);
        var other = new ReadingsStored(Guid.NewGuid(), 1, []);
        var (otherBody, otherType) = EventBody.Write(other);

        Assert.Equal(SensorReadingsBinary.ContentType, binaryType);
        Assert.Equal(EventBody.Json, otherType);
        Assert.Equal(sent.Readings, Assert.IsType<SensorReadingsReceived>(Assert.Single(EventBody.Read(binary, binaryType, typeof(SensorReadingsReceived)))).Readings);
        Assert.Equal(sent.Readings, Assert.IsType<SensorReadingsReceived>(Assert.Single(EventBody.Read(json, "application/json", typeof(SensorReadingsReceived)))).Readings);
        Assert.Equal(sent.Readings, Assert.IsType<SensorReadingsReceived>(Assert.Single(EventBody.Read(json, null, typeof(SensorReadingsReceived)))).Readings);
        Assert.Equal(other.HomeId, Assert.IsType<ReadingsStored>(Assert.Single(EventBody.Read(otherBody, otherType, typeof(ReadingsStored)))).HomeId);
        Assert.Throws<InvalidDataException>(() => EventBody.Read(binary, binaryType, typeof(ReadingsStored)));
        Assert.Throws<InvalidDataException>(() => EventBody.Read(json, "application/x-protobuf", typeof(SensorReadingsReceived)));
    }

    [Fact]
    public void BatchesOfSeveralHomesTravelAsOneSetAndComeBackEachWithItsOwnIdAndHome()
    {
        SensorReadingsReceived[] sent = [Batch(1000), Batch(1), Batch(0), Batch(37)];

        var (body, contentType) = EventBody.WriteMany(sent);
        var received = EventBody.Read(body, contentType, typeof(SensorReadingsReceived)).Cast<SensorReadingsReceived>().ToArray();

        Assert.Equal(SensorReadingsBinary.SetContentType, contentType);
        Assert.Equal(sent.Select(e => (e.Id, e.OccurredAt, e.HomeId, e.Source)), received.Select(e => (e.Id, e.OccurredAt, e.HomeId, e.Source)));
        Assert.Equal(sent.Select(e => e.Readings), received.Select(e => e.Readings));
        Assert.True(body.Length < sent.Sum(e => SensorReadingsBinary.Write(e).Length) + 4 * 4, "a set adds no more than a length a batch");
    }

    [Fact]
    public void OneEventIsWrittenAloneAndOnlyReadingBatchesShareAMessage()
    {
        var single = Batch(3);
        var stored = new ReadingsStored(Guid.NewGuid(), 1, []);

        Assert.Equal(EventBody.Write(single).ContentType, EventBody.WriteMany([single]).ContentType);
        Assert.Equal(EventBody.Json, EventBody.WriteMany([stored]).ContentType);
        Assert.Throws<NotSupportedException>(() => EventBody.WriteMany([stored, stored]));
        Assert.Throws<ArgumentException>(() => SensorReadingsBinary.WriteSet([]));
    }

    [Fact]
    public void EveryTruncationOfASetAnEmptySetAndTrailingBytesAreInvalidData()
    {
        var set = SensorReadingsBinary.WriteSet([Batch(2), Batch(3)]);

        for (var length = 0; length < set.Length; length++)
        {
            var cut = set.AsSpan(0, length).ToArray();
            Assert.Throws<InvalidDataException>(() => SensorReadingsBinary.ReadSet(cut));
        }
        Assert.Throws<InvalidDataException>(() => SensorReadingsBinary.ReadSet([0]));
        Assert.Throws<InvalidDataException>(() => SensorReadingsBinary.ReadSet([.. set, 0]));
        // A set is not a single body, nor the other way round: the content type decides, and a mix-up is reported, not guessed at.
        Assert.Throws<InvalidDataException>(() => SensorReadingsBinary.Read(set));
        Assert.Throws<InvalidDataException>(() => SensorReadingsBinary.ReadSet(SensorReadingsBinary.Write(Batch(2))));
    }
}
