using System.Globalization;
using System.Text.Json;
using HomeIQ.Energy.Domain;
using HomeIQ.Energy.Infrastructure;
using HomeIQ.ServiceDefaults.Authentication;
using HomeIQ.ServiceDefaults.Time;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using NpgsqlTypes;

namespace HomeIQ.Energy.Apis;

/// <summary>
/// A home's tariff, versioned by the instant it takes effect: a PUT adds a version (from now by default), so the cost of hours
/// before it keeps the price that was in force then. A PUT with a past <c>effectiveFrom</c> is a deliberate correction of those hours.
/// </summary>
public static class TariffApi
{
    private const double MaxPrice = 1000;
    private const int MaxPeriods = 48;

    public static RouteGroupBuilder MapTariffApi(this RouteGroupBuilder energy)
    {
        energy.MapGet("/tariff", GetTariff).RequireAuthorization(HomePolicies.HomeMember);
        energy.MapPut("/tariff", PutTariff).RequireAuthorization(HomePolicies.HomeOwner);
        return energy;
    }

    private static TariffDto Dto(TariffVersion v) => new(LocalTime.InZone(v.EffectiveFrom, v.Zone), v.Zone.Id, v.Currency, v.PricePerKWh, v.StandingChargePerDay,
        [.. v.Periods.Select(p => new StoredPeriod(p.Name, p.FromHour, p.ToHour, [.. p.Days.Select(Weekdays.Name)], p.PricePerKWh))]);

    internal static async Task<Ok<TariffPage>> GetTariff(Guid homeId, NpgsqlDataSource db, CancellationToken ct)
    {
        var tariffs = await EnergyStore.TariffsAsync(db, homeId, ct);
        return TypedResults.Ok(new TariffPage(homeId, tariffs.At(DateTime.UtcNow) is { } current ? Dto(current) : null, [.. tariffs.Versions.Select(Dto)]));
    }

    internal static async Task<Results<Ok<TariffDto>, ValidationProblem>> PutTariff(Guid homeId, TariffRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var (version, errors) = Validate(request, DateTime.UtcNow);
        if (version is null)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var periods = version.Periods.Select(p => new StoredPeriod(p.Name, p.FromHour, p.ToHour, [.. p.Days.Select(Weekdays.Name)], p.PricePerKWh)).ToList();
        await using var command = db.CreateCommand("""
            INSERT INTO energy_tariffs (home_id, effective_from, time_zone, currency, price_per_kwh, standing_charge_per_day, periods)
            VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
            ON CONFLICT (home_id, effective_from) DO UPDATE SET time_zone = excluded.time_zone, currency = excluded.currency,
                price_per_kwh = excluded.price_per_kwh, standing_charge_per_day = excluded.standing_charge_per_day, periods = excluded.periods
            """);
        foreach (var value in new object[] { homeId, version.EffectiveFrom, version.Zone.Id, version.Currency, version.PricePerKWh, version.StandingChargePerDay,
                     JsonSerializer.Serialize(periods, JsonSerializerOptions.Web) })
        {
            command.Parameters.Add(value is DateTime ? new NpgsqlParameter { Value = value, NpgsqlDbType = NpgsqlDbType.TimestampTz } : new NpgsqlParameter { Value = value });
        }
        await command.ExecuteNonQueryAsync(ct);
        return TypedResults.Ok(Dto(version));
    }

    /// <summary>The version a request describes, or the errors by field name.</summary>
    internal static (TariffVersion? Version, Dictionary<string, string[]> Errors) Validate(TariffRequest? request, DateTime now)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        void Add(string name, string message) => errors.TryAdd(name, [message]);
        if (request is null)
        {
            Add("body", "A tariff is required.");
            return (null, errors);
        }
        var zone = TimeZones.Find(request.TimeZone);
        if (zone is null)
        {
            Add("timeZone", "'timeZone' must be an IANA time zone, e.g. Europe/Paris.");
        }
        if (request.Currency is not { Length: 3 } currency || !currency.All(char.IsAsciiLetterUpper))
        {
            Add("currency", "'currency' must be an ISO 4217 code of three capital letters, e.g. EUR.");
        }
        if (request.PricePerKWh is not { } price || !IsPrice(price))
        {
            Add("pricePerKWh", $"'pricePerKWh' is required, from 0 to {MaxPrice}.");
        }
        if (request.StandingChargePerDay is { } standing && !IsPrice(standing))
        {
            Add("standingChargePerDay", $"'standingChargePerDay' must be from 0 to {MaxPrice}.");
        }
        var effective = now;
        if (request.EffectiveFrom is not null)
        {
            if (DateTimeOffset.TryParse(request.EffectiveFrom, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
                && at.Year >= 1971 && at <= now.AddYears(1))
            {
                effective = at.UtcDateTime;
            }
            else
            {
                Add("effectiveFrom", "'effectiveFrom' must be an ISO 8601 time from 1971 to a year from now.");
            }
        }
        var periods = new List<TouPeriod>();
        if (request.Periods is { Count: > MaxPeriods })
        {
            Add("periods", $"At most {MaxPeriods} periods.");
        }
        else
        {
            for (var i = 0; i < (request.Periods?.Count ?? 0); i++)
            {
                if (Period(request.Periods![i], $"periods[{i}]", Add) is { } period)
                {
                    periods.Add(period);
                }
            }
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        return (new TariffVersion(effective, zone!, request.Currency!, request.PricePerKWh!.Value, request.StandingChargePerDay ?? 0, periods), errors);
    }

    private static TouPeriod? Period(TouPeriodRequest? p, string field, Action<string, string> add)
    {
        if (p is null)
        {
            add(field, "A period is an object.");
            return null;
        }
        var ok = true;
        if (p.Name is { Length: > 100 } || p.Name?.Any(char.IsControl) == true)
        {
            add(field + ".name", "'name' is at most 100 characters, without control characters.");
            ok = false;
        }
        if (p.FromHour is not (>= 0 and <= 23))
        {
            add(field + ".fromHour", "'fromHour' is a local hour from 0 to 23.");
            ok = false;
        }
        if (p.ToHour is not (>= 1 and <= 24) || p.ToHour == p.FromHour)
        {
            add(field + ".toHour", "'toHour' is a local hour from 1 to 24 (exclusive end; before fromHour to wrap past midnight), not equal to fromHour.");
            ok = false;
        }
        if (p.PricePerKWh is not { } price || !IsPrice(price))
        {
            add(field + ".pricePerKWh", $"'pricePerKWh' is required, from 0 to {MaxPrice}.");
            ok = false;
        }
        var days = new List<DayOfWeek>();
        foreach (var name in p.Days ?? [])
        {
            if (Weekdays.Parse(name) is { } day)
            {
                days.Add(day);
            }
            else
            {
                add(field + ".days", $"'days' lists weekdays among {string.Join(", ", Weekdays.Names)} (empty: every day).");
                ok = false;
                break;
            }
        }
        return ok ? new TouPeriod(p.Name ?? "", p.FromHour!.Value, p.ToHour!.Value % 24, [.. days.Distinct()], p.PricePerKWh!.Value) : null;
    }

    private static bool IsPrice(double value) => double.IsFinite(value) && value >= 0 && value <= MaxPrice;
}
