using System.Collections.Concurrent;
using System.Security.Claims;

namespace HomeIQ.ServiceDefaults.Authentication;

/// <summary>
/// Access tokens already validated, until they expire: a client sends the same token on every request for its lifetime,
/// and an RSA verification per request is the largest cost of an authenticated call through the gateway. Bounded; a
/// token is only ever accepted here after full validation, and each request gets its own copy of the principal.
/// </summary>
public sealed class ValidatedTokenCache(TimeProvider clock)
{
    private const int Capacity = 10_000;
    private readonly ConcurrentDictionary<string, (ClaimsPrincipal Principal, DateTimeOffset Expires)> _tokens = new(StringComparer.Ordinal);

    /// <summary>A copy of the principal of a validated, unexpired token.</summary>
    public bool TryGet(string token, out ClaimsPrincipal principal)
    {
        if (_tokens.TryGetValue(token, out var entry))
        {
            if (entry.Expires > clock.GetUtcNow())
            {
                principal = entry.Principal.Clone();
                return true;
            }
            _tokens.TryRemove(token, out _);
        }
        principal = null!;
        return false;
    }

    /// <summary>Remembers a token that passed validation, until it expires.</summary>
    public void Add(string token, ClaimsPrincipal principal, DateTime validTo)
    {
        if (_tokens.Count >= Capacity)
        {
            var now = clock.GetUtcNow();
            foreach (var (key, entry) in _tokens)
            {
                if (entry.Expires <= now)
                {
                    _tokens.TryRemove(key, out _);
                }
            }
            if (_tokens.Count >= Capacity)
            {
                _tokens.Clear();
            }
        }
        _tokens[token] = (principal.Clone(), new DateTimeOffset(DateTime.SpecifyKind(validTo, DateTimeKind.Utc)));
    }
}
