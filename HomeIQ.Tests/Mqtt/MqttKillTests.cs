using System.Diagnostics;
using System.Globalization;
using HomeIQ.Tests.Hosting;
using HomeIQ.Tests.Integration;
using Npgsql;

namespace HomeIQ.Tests.Mqtt;

/// <summary>An ingestion replica is SIGKILLed while devices publish: every message the broker accepted is stored once.</summary>
[Collection(MqttCollection.Name)]
public sealed class MqttKillTests(MqttFixture fixture)
{
    private const int Devices = 4;
    private const int MessagesPerDevice = 1_500;

    [Fact]
    public async Task AKilledIngestionReplicaLosesAndDuplicatesNothing()
    {
        var ct = TestApps.Timeout(TimeSpan.FromMinutes(6));
        var id = Guid.NewGuid().ToString("N")[..8];
        var topics = Enumerable.Range(0, Devices).Select(d => $"zigbee2mqtt/kill-{id}-{d}").ToArray();
        var published = 0;
        var clients = new List<MqttTestClient>();
        foreach (var _ in topics)
        {
            clients.Add(await fixture.DeviceAsync(ct));
        }
        try
        {
            // Each message has a value of its own, so a duplicate (a redelivery stored with a new time) shows as a second row of that value.
            var publishing = Task.WhenAll(topics.Select((topic, d) => Task.Run(async () =>
            {
                for (var i = 0; i < MessagesPerDevice; i++)
                {
                    var value = (10 + i * 0.01).ToString("0.00", CultureInfo.InvariantCulture);
                    await clients[d].PublishAsync(topic, $$"""{"temperature":{{value}}}""", ct); // returns once the broker has it (PUBACK)
                    Interlocked.Increment(ref published);
                    await Task.Delay(2, ct);
                }
            }, ct)));

            while (Volatile.Read(ref published) < Devices * MessagesPerDevice / 4)
            {
                Assert.False(publishing.IsCompleted, "The devices stopped publishing early");
                await Task.Delay(50, ct);
            }
            // What it had received but not acknowledged stays with its session in the broker.
            await using (var killed = await fixture.App.KillOneAsync("ingestion"))
            {
                Console.WriteLine($"[mqtt-kill] killed ingestion (pid {killed.Pid}) after {Volatile.Read(ref published)} published messages");
                await publishing;
                // HomeIQ.Hosting restarts the replica under the same name, so it resumes its session and gets what it had not acknowledged.
                await killed.BackAsync(ct);
            }

            var devices = new List<Guid>();
            foreach (var topic in topics)
            {
                devices.Add(await fixture.DeviceIdAsync($"mqtt:{topic}", ct));
            }
            var (rows, distinct) = await SettledAsync(devices, Devices * MessagesPerDevice, ct);
            Assert.Equal(Devices * MessagesPerDevice, distinct); // nothing lost
            Assert.Equal(distinct, rows); // nothing stored twice
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Rows and distinct (device, value) pairs, once the rows reach <paramref name="expected"/> or stop changing for 30 s.</summary>
    private async Task<(long Rows, long Distinct)> SettledAsync(List<Guid> devices, long expected, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(await fixture.App.GetConnectionStringAsync("readingsdb", ct));
        await connection.OpenAsync(ct);
        var last = (Rows: -1L, Distinct: -1L);
        var unchangedSince = Stopwatch.StartNew();
        while (true)
        {
            await using var count = new NpgsqlCommand(
                "SELECT count(*), count(DISTINCT (device_id, value)) FROM readings WHERE device_id = ANY($1) AND metric = 'temperature'", connection)
            {
                Parameters = { new() { Value = devices.ToArray() } },
            };
            await using var reader = await count.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            var now = (Rows: reader.GetInt64(0), Distinct: reader.GetInt64(1));
            await reader.CloseAsync();
            if (now == last && now.Rows >= expected)
            {
                return now; // seen twice: nothing more is arriving late
            }
            if (now != last)
            {
                last = now;
                unchangedSince.Restart();
            }
            else if (unchangedSince.Elapsed > TimeSpan.FromSeconds(30))
            {
                return now;
            }
            await Task.Delay(1_000, ct);
        }
    }
}
