using System.Runtime.CompilerServices;
using System.Text;

namespace HomeIQ.Hosting.ApplicationModel;

/// <summary>Something whose value is known only when the application runs (a port, a generated password).</summary>
public interface IValueProvider
{
    /// <summary>The value at run time.</summary>
    ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default);
}

/// <summary>Something that can be written into a deployment manifest as an expression such as <c>{postgres.bindings.tcp.port}</c>.</summary>
public interface IManifestExpressionProvider
{
    /// <summary>The manifest expression.</summary>
    string ValueExpression { get; }
}

/// <summary>A string built from literals and run-time values, such as a connection string.</summary>
public sealed class ReferenceExpression : IValueProvider, IManifestExpressionProvider
{
    private readonly string[] _formats;

    private ReferenceExpression(string format, IValueProvider[] valueProviders, string[] formats)
    {
        Format = format;
        ValueProviders = valueProviders;
        _formats = formats;
    }

    /// <summary>The composite format, with one placeholder per value provider.</summary>
    public string Format { get; }

    /// <summary>The run-time values, in placeholder order.</summary>
    public IReadOnlyList<IValueProvider> ValueProviders { get; }

    /// <inheritdoc />
    public string ValueExpression =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture, Format,
            ValueProviders.Select(v => (object?)(v as IManifestExpressionProvider)?.ValueExpression ?? v.ToString()).ToArray());

    /// <inheritdoc />
    public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default)
    {
        var values = new object?[ValueProviders.Count];
        for (var i = 0; i < values.Length; i++)
        {
            var value = await ValueProviders[i].GetValueAsync(cancellationToken).ConfigureAwait(false);
            values[i] = _formats[i] == "uri" && value is not null ? Uri.EscapeDataString(value) : value;
        }
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, Format, values);
    }

    /// <summary>Builds an expression from an interpolated string; value providers become placeholders, <c>:uri</c> escapes them.</summary>
    public static ReferenceExpression Create(in ExpressionInterpolatedStringHandler handler) => handler.Build();

    /// <summary>Collects the parts of an interpolated <see cref="ReferenceExpression"/>.</summary>
    [InterpolatedStringHandler]
    public ref struct ExpressionInterpolatedStringHandler
    {
        private readonly StringBuilder _format;
        private readonly List<IValueProvider> _values;
        private readonly List<string> _formats;

        /// <summary>Called by the compiler.</summary>
        public ExpressionInterpolatedStringHandler(int literalLength, int formattedCount)
        {
            _format = new StringBuilder(literalLength + formattedCount * 4);
            _values = new(formattedCount);
            _formats = new(formattedCount);
        }

        /// <summary>Called by the compiler.</summary>
        public readonly void AppendLiteral(string value) => _format.Append(value.Replace("{", "{{", StringComparison.Ordinal).Replace("}", "}}", StringComparison.Ordinal));

        /// <summary>Called by the compiler.</summary>
        public readonly void AppendFormatted<T>(T value) => AppendFormatted(value, null);

        /// <summary>Called by the compiler.</summary>
        public readonly void AppendFormatted<T>(T value, string? format)
        {
            if (value is IValueProvider provider)
            {
                _format.Append('{').Append(_values.Count).Append('}');
                _values.Add(provider);
                _formats.Add(format ?? "");
            }
            else
            {
                AppendLiteral(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? "");
            }
        }

        internal readonly ReferenceExpression Build() => new(_format.ToString(), [.. _values], [.. _formats]);
    }
}
