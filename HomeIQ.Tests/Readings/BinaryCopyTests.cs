using System.Text;
using HomeIQ.Postgres;
using HomeIQ.Tests.Integration;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Tests.Readings;

/// <summary>
/// <see cref="BinaryCopyWriter"/> (Readings' COPY) against the real Postgres of the readings stack, with Npgsql's own typed importer
/// as the oracle: the same rows written both ways must give the same table, byte for byte in the text form of every row.
/// </summary>
public sealed partial class ReadingsTests
{
    private const string CopyColumns = "home_id uuid NOT NULL, device_id uuid NOT NULL, metric text NOT NULL, ts timestamptz NOT NULL, value double precision NOT NULL, unit text NOT NULL, seq bigint NULL";

    private sealed record CopyRow(Guid Home, Guid Device, string Metric, DateTimeOffset Ts, double Value, string Unit, long? Seq);

    [Fact]
    public async Task BinaryCopyStoresExactlyWhatNpgsqlsTypedImporterStores()
    {
        var ct = TestApps.Timeout();
        var rows = CopyRows().ToList();
        await using var connection = await fixture.Db.OpenConnectionAsync(ct);
        await ExecuteAsync(connection, $"CREATE TEMP TABLE copy_ours ({CopyColumns}); CREATE TEMP TABLE copy_npgsql ({CopyColumns})", ct);

        await using (var copy = await BinaryCopyWriter.BeginAsync(connection, "COPY copy_ours FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var row in rows)
            {
                await copy.StartRowAsync(7, ct);
                copy.WriteUuid(row.Home);
                copy.WriteUuid(row.Device);
                copy.WriteText(row.Metric);
                copy.WriteTimestampTz(row.Ts);
                copy.WriteDouble(row.Value);
                copy.WriteText(row.Unit);
                if (row.Seq is { } seq)
                {
                    copy.WriteInt64(seq);
                }
                else
                {
                    copy.WriteNull();
                }
            }
            await copy.CompleteAsync(ct);
        }
        await using (var importer = await connection.BeginBinaryImportAsync("COPY copy_npgsql FROM STDIN (FORMAT BINARY)", ct))
        {
            foreach (var row in rows)
            {
                await importer.StartRowAsync(ct);
                await importer.WriteAsync(row.Home, NpgsqlDbType.Uuid, ct);
                await importer.WriteAsync(row.Device, NpgsqlDbType.Uuid, ct);
                await importer.WriteAsync(row.Metric, NpgsqlDbType.Text, ct);
                await importer.WriteAsync(row.Ts.UtcDateTime, NpgsqlDbType.TimestampTz, ct);
                await importer.WriteAsync(row.Value, NpgsqlDbType.Double, ct);
                await importer.WriteAsync(row.Unit, NpgsqlDbType.Text, ct);
                if (row.Seq is { } seq)
                {
                    await importer.WriteAsync(seq, NpgsqlDbType.Bigint, ct);
                }
                else
                {
                    await importer.WriteNullAsync(ct);
                }
            }
            await importer.CompleteAsync(ct);
        }

        Assert.Equal((long)rows.Count, await ScalarAsync(connection, "SELECT count(*) FROM copy_ours", ct));
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM (SELECT c::text FROM copy_ours c EXCEPT ALL SELECT c::text FROM copy_npgsql c) d", ct));
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM (SELECT c::text FROM copy_npgsql c EXCEPT ALL SELECT c::text FROM copy_ours c) d", ct));
        // More than one chunk went, and the row larger than the writer's buffer arrived whole.
        Assert.True(rows.Sum(r => 110 + Encoding.UTF8.GetByteCount(r.Metric + r.Unit)) > 4 * 32 * 1024);
        Assert.Equal(1L, await ScalarAsync(connection, "SELECT count(*) FROM copy_ours WHERE length(unit) = 40000", ct));
    }

    [Fact]
    public async Task ABinaryCopyThatBreaksAKeyFailsAtCompleteAndOneNotCompletedLeavesNothing()
    {
        var ct = TestApps.Timeout();
        await using var connection = await fixture.Db.OpenConnectionAsync(ct);
        await ExecuteAsync(connection, "CREATE TEMP TABLE copy_keyed (id bigint PRIMARY KEY, note text NOT NULL)", ct);

        // A duplicate key: the server's error comes from CompleteAsync, as from Npgsql's importer, and nothing of the COPY stays.
        var duplicate = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var copy = await BinaryCopyWriter.BeginAsync(connection, "COPY copy_keyed FROM STDIN (FORMAT BINARY)", ct);
            foreach (var id in new long[] { 1, 2, 1 })
            {
                await copy.StartRowAsync(2, ct);
                copy.WriteInt64(id);
                copy.WriteText("row");
            }
            await copy.CompleteAsync(ct);
        });
        Assert.Equal(PostgresErrorCodes.UniqueViolation, duplicate.SqlState);
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM copy_keyed", ct));

        // A row the writer cannot encode (an unpaired surrogate, refused as Npgsql refuses it) after more than a chunk of good rows
        // went to the server: disposing cancels the COPY, the connection stays usable and none of the rows is stored.
        await Assert.ThrowsAsync<EncoderFallbackException>(async () =>
        {
            await using var copy = await BinaryCopyWriter.BeginAsync(connection, "COPY copy_keyed FROM STDIN (FORMAT BINARY)", ct);
            for (var id = 100; id < 3_100; id++)
            {
                await copy.StartRowAsync(2, ct);
                copy.WriteInt64(id);
                copy.WriteText("fine");
            }
            await copy.StartRowAsync(2, ct);
            copy.WriteInt64(11);
            copy.WriteText("broken \ud800");
        });
        Assert.Equal(0L, await ScalarAsync(connection, "SELECT count(*) FROM copy_keyed", ct));

        // A row with a field too many or too few is refused before anything reaches the server.
        await using (var copy = await BinaryCopyWriter.BeginAsync(connection, "COPY copy_keyed FROM STDIN (FORMAT BINARY)", ct))
        {
            await copy.StartRowAsync(2, ct);
            copy.WriteInt64(20);
            Assert.Throws<InvalidOperationException>(() => { _ = copy.StartRowAsync(2, ct); });
            copy.WriteText("twenty");
            Assert.Throws<InvalidOperationException>(() => copy.WriteText("one too many"));
            await copy.CompleteAsync(ct);
        }
        Assert.Equal(1L, await ScalarAsync(connection, "SELECT count(*) FROM copy_keyed WHERE id = 20 AND note = 'twenty'", ct));
    }

    /// <summary>Rows that exercise every encoding: non-ASCII text, long values, sub-microsecond and pre-2000 timestamps, odd doubles, nulls.</summary>
    private static IEnumerable<CopyRow> CopyRows()
    {
        var home = Guid.NewGuid();
        var devices = Enumerable.Range(0, 7).Select(_ => Guid.NewGuid()).ToArray();
        string[] metrics = ["temperature", "température", "温度", new string('m', 200), "power"];
        string[] units = ["°C", "", "kWh", "µg/m³"];
        double[] values = [21.5, -0.0, double.MaxValue, double.Epsilon, -1e-300, 1 / 3.0, 230];
        var start = new DateTimeOffset(2026, 11, 26, 23, 59, 59, TimeSpan.FromHours(2)).AddTicks(7);
        for (var i = 0; i < 4_000; i++)
        {
            yield return new CopyRow(home, devices[i % devices.Length], metrics[i % metrics.Length], start.AddTicks(i * 13_579L), values[i % values.Length],
                units[i % units.Length], i % 3 == 0 ? null : i * 1_000_003L - 2_000_000);
        }
        yield return new CopyRow(home, Guid.Empty, "before 2000", new DateTimeOffset(1999, 12, 31, 23, 59, 59, TimeSpan.Zero).AddTicks(9_999_999), -273.15, "K", long.MinValue);
        yield return new CopyRow(home, devices[0], "epoch", new DateTimeOffset(1970, 1, 2, 0, 0, 0, TimeSpan.Zero).AddTicks(-3), 0, "", long.MaxValue);
        yield return new CopyRow(Guid.Empty, devices[1], "larger than a chunk", start, 1, new string('é', 40_000), null);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }
}
