using Microsoft.Extensions.Options;

namespace HomeIQ.Ingestion.HomeAssistant;

/// <summary>The <c>HomeAssistant</c> section: which Home Assistant to follow, for which home, and how patiently.</summary>
public sealed class HomeAssistantOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "HomeAssistant";

    /// <summary>Home Assistant's address (<c>http://host:8123</c>) or its WebSocket API (<c>ws://host:8123/api/websocket</c>).</summary>
    public string? Url { get; set; }

    /// <summary>A long-lived access token (Home Assistant profile → Security).</summary>
    public string? AccessToken { get; set; }

    /// <summary>The HomeIQ home the entities belong to.</summary>
    public string? HomeId { get; set; }

    /// <summary>Whether an entity with no HomeIQ device is registered as one (otherwise it is skipped).</summary>
    public bool RegisterUnknownEntities { get; set; }

    /// <summary>How long to wait after <c>auth_invalid</c> before trying again: the token will not fix itself quickly.</summary>
    public TimeSpan AuthRetryDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The first reconnect delay; it doubles per failed attempt (with jitter) up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectInitialDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest reconnect delay.</summary>
    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>A connection that lasted this long resets the back-off to <see cref="ReconnectInitialDelay"/>.</summary>
    public TimeSpan HealthyAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the handshake (connect, auth, subscription results) may take.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long one replica's claim on the bridge lasts without renewal; it is renewed every third of it.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the entity → device map is reloaded from Devices besides Home Assistant's registry updates (devices changed in HomeIQ).</summary>
    public TimeSpan DeviceMapRefresh { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Readings per <c>AcceptAsync</c> call at most.</summary>
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>How long a batch waits to fill before it is sent anyway.</summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Readings and state changes buffered between the socket and the broker; when full, the socket is not read.</summary>
    public int BufferCapacity { get; set; } = 10_000;

    /// <summary>How long stopping waits for the buffer to reach the broker.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The home, parsed (valid once the options validated).</summary>
    public Guid Home => Guid.Parse(HomeId!);

    /// <summary>The WebSocket API address derived from <see cref="Url"/>.</summary>
    public Uri WebSocketUri
    {
        get
        {
            var builder = new UriBuilder(Url!);
            builder.Scheme = builder.Scheme switch { "http" => "ws", "https" => "wss", var other => other };
            if (builder.Path is "" or "/")
            {
                builder.Path = "/api/websocket";
            }
            return builder.Uri;
        }
    }
}

/// <summary>Checks the options on start, naming the key that is wrong.</summary>
internal sealed class HomeAssistantOptionsValidator : IValidateOptions<HomeAssistantOptions>
{
    public ValidateOptionsResult Validate(string? name, HomeAssistantOptions options)
    {
        var errors = new List<string>();
        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var url) || url.Scheme is not ("ws" or "wss" or "http" or "https"))
        {
            errors.Add($"HomeAssistant:Url must be an absolute ws://, wss://, http:// or https:// address of Home Assistant (got '{options.Url}').");
        }
        if (string.IsNullOrWhiteSpace(options.AccessToken))
        {
            errors.Add("HomeAssistant:AccessToken is required: a long-lived access token created in Home Assistant (profile → Security).");
        }
        if (!Guid.TryParse(options.HomeId, out var home) || home == Guid.Empty)
        {
            errors.Add($"HomeAssistant:HomeId must be the id (a GUID) of the HomeIQ home the entities belong to (got '{options.HomeId}').");
        }
        Positive(errors, nameof(options.AuthRetryDelay), options.AuthRetryDelay);
        Positive(errors, nameof(options.ReconnectInitialDelay), options.ReconnectInitialDelay);
        Positive(errors, nameof(options.HandshakeTimeout), options.HandshakeTimeout);
        Positive(errors, nameof(options.LeaseTtl), options.LeaseTtl);
        Positive(errors, nameof(options.DeviceMapRefresh), options.DeviceMapRefresh);
        if (options.ReconnectMaxDelay < options.ReconnectInitialDelay)
        {
            errors.Add("HomeAssistant:ReconnectMaxDelay must be at least HomeAssistant:ReconnectInitialDelay.");
        }
        if (options.MaxBatchSize is < 1 or > 10_000)
        {
            errors.Add("HomeAssistant:MaxBatchSize must be 1 to 10000.");
        }
        if (options.BufferCapacity < options.MaxBatchSize)
        {
            errors.Add("HomeAssistant:BufferCapacity must be at least HomeAssistant:MaxBatchSize.");
        }
        return errors.Count > 0 ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }

    private static void Positive(List<string> errors, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"HomeAssistant:{key} must be a positive duration.");
        }
    }
}
