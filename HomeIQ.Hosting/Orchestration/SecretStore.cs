using System.Text.Json;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>
/// Generated parameter values (passwords) kept outside the repository, so data volumes and persistent servers
/// find the password they were created with. The testing builder keeps them in memory only.
/// </summary>
internal sealed class SecretStore(string? file)
{
    private readonly Lock _gate = new();
    private Dictionary<string, string>? _values;

    public string GetOrCreate(string key, Func<string> generate)
    {
        lock (_gate)
        {
            _values ??= Load();
            if (_values.TryGetValue(key, out var existing))
            {
                return existing;
            }
            var value = generate();
            _values[key] = value;
            Save();
            return value;
        }
    }

    private Dictionary<string, string> Load()
    {
        if (file is null || !File.Exists(file))
        {
            return new(StringComparer.Ordinal);
        }
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file)) ?? new(StringComparer.Ordinal);
        }
        catch (JsonException ex)
        {
            throw new DistributedApplicationException($"The secrets file '{file}' is not valid JSON ({ex.Message}). Fix or delete it; deleting it also means data volumes must be recreated.", ex);
        }
    }

    private void Save()
    {
        if (file is null)
        {
            return;
        }
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var tmp = file + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(_values, new JsonSerializerOptions { WriteIndented = true }));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        File.Move(tmp, file, overwrite: true);
    }
}
