using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace HomeIQ.ServiceDefaults.Resilience;

/// <summary>Rejects standard resilience options that Polly or the standard pipeline cannot work with; register it and call <c>ValidateOnStart()</c>.</summary>
public sealed class HttpStandardResilienceOptionsValidator : IValidateOptions<HttpStandardResilienceOptions>
{
    /// <summary>The sampling duration of the circuit breaker must be at least this many attempt timeouts (as in Microsoft.Extensions.Http.Resilience).</summary>
    public const int SamplingDurationToAttemptTimeoutRatio = 2;

    /// <summary>Validates the options of one named client; options of a disabled client are not checked.</summary>
    public ValidateOptionsResult Validate(string? name, HttpStandardResilienceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return ValidateOptionsResult.Skip;
        }

        var errors = new List<string>();
        object?[] parts = [options.RateLimiter, options.TotalRequestTimeout, options.Retry, options.CircuitBreaker, options.AttemptTimeout];
        if (parts.Any(p => p is null))
        {
            return ValidateOptionsResult.Fail("Every part of HttpStandardResilienceOptions must be set.");
        }

        if (options.Retry.MaxRetryAttempts < 0)
        {
            errors.Add($"Retry.MaxRetryAttempts must not be negative, was {options.Retry.MaxRetryAttempts}.");
        }

        // Zero retries leaves the retry out of the pipeline, so Polly's rules for it do not apply.
        foreach (var part in parts.Where(p => p != options.Retry || options.Retry.MaxRetryAttempts > 0))
        {
            var results = new List<ValidationResult>();
            if (!Validator.TryValidateObject(part!, new ValidationContext(part!), results, validateAllProperties: true))
            {
                errors.AddRange(results.Select(r => $"{part!.GetType().Name}: {r.ErrorMessage}"));
            }
        }

        var total = options.TotalRequestTimeout.Timeout;
        var attempt = options.AttemptTimeout.Timeout;
        if (total <= TimeSpan.Zero)
        {
            errors.Add($"TotalRequestTimeout.Timeout must be positive, was {total}.");
        }

        if (attempt <= TimeSpan.Zero)
        {
            errors.Add($"AttemptTimeout.Timeout must be positive, was {attempt}.");
        }

        if (attempt > total)
        {
            errors.Add($"AttemptTimeout.Timeout ({attempt}) must not be longer than TotalRequestTimeout.Timeout ({total}).");
        }

        var ratio = options.CircuitBreaker.FailureRatio;
        if (!(ratio > 0 && ratio <= 1))
        {
            errors.Add($"CircuitBreaker.FailureRatio must be in (0, 1], was {ratio}.");
        }

        if (options.CircuitBreaker.SamplingDuration < attempt * SamplingDurationToAttemptTimeoutRatio)
        {
            errors.Add($"CircuitBreaker.SamplingDuration ({options.CircuitBreaker.SamplingDuration}) must be at least {SamplingDurationToAttemptTimeoutRatio} × AttemptTimeout.Timeout ({attempt}).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
