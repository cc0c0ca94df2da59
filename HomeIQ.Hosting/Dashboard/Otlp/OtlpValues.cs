using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Collections;
using HomeIQ.Hosting.Dashboard.Otlp.Proto.Common;
using HomeIQ.Hosting.Dashboard.Telemetry;

namespace HomeIQ.Hosting.Dashboard.Otlp;

/// <summary>Conversions from OTLP common types to the store's text values.</summary>
internal static class OtlpValues
{
    public const string UnknownService = "unknown_service";

    /// <summary>The resource's <c>service.name</c> and <c>service.instance.id</c>.</summary>
    public static (string Name, string Instance) Identify(Proto.Common.Resource? resource, StringPool pool)
    {
        string? name = null;
        var instance = "";
        if (resource is not null)
        {
            foreach (var attribute in resource.Attributes)
            {
                if (attribute.Key == "service.name")
                {
                    name = Text(attribute.Value);
                }
                else if (attribute.Key == "service.instance.id")
                {
                    instance = Text(attribute.Value);
                }
            }
        }
        return (string.IsNullOrEmpty(name) ? UnknownService : pool.Intern(name), pool.Intern(instance));
    }

    public static KeyValuePair<string, string>[] Attributes(RepeatedField<KeyValue> attributes, StringPool pool)
    {
        if (attributes.Count == 0)
        {
            return [];
        }
        var result = new KeyValuePair<string, string>[attributes.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = new(pool.Intern(attributes[i].Key), pool.Intern(Text(attributes[i].Value)));
        }
        return result;
    }

    /// <summary>Lowercase hex of an id, or empty.</summary>
    public static string Hex(ByteString id) => id.Length == 0 ? "" : Convert.ToHexStringLower(id.Span);

    /// <summary>An attribute value or body as text; arrays and maps in a compact JSON-like form.</summary>
    public static string Text(AnyValue? value)
    {
        if (value is null)
        {
            return "";
        }
        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                return value.StringValue;
            case AnyValue.ValueOneofCase.BoolValue:
                return value.BoolValue ? "true" : "false";
            case AnyValue.ValueOneofCase.IntValue:
                return value.IntValue.ToString(CultureInfo.InvariantCulture);
            case AnyValue.ValueOneofCase.DoubleValue:
                return value.DoubleValue.ToString("R", CultureInfo.InvariantCulture);
            case AnyValue.ValueOneofCase.BytesValue:
                return Convert.ToBase64String(value.BytesValue.Span);
            case AnyValue.ValueOneofCase.None:
                return "";
        }
        var text = new StringBuilder();
        Append(text, value);
        return text.ToString();
    }

    private static void Append(StringBuilder text, AnyValue value)
    {
        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.ArrayValue:
                text.Append('[');
                for (var i = 0; i < value.ArrayValue.Values.Count; i++)
                {
                    text.Append(i == 0 ? "" : ", ");
                    Append(text, value.ArrayValue.Values[i]);
                }
                text.Append(']');
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                text.Append('{');
                for (var i = 0; i < value.KvlistValue.Values.Count; i++)
                {
                    text.Append(i == 0 ? "" : ", ").Append(value.KvlistValue.Values[i].Key).Append(": ");
                    Append(text, value.KvlistValue.Values[i].Value ?? new AnyValue());
                }
                text.Append('}');
                break;
            default:
                text.Append(Text(value));
                break;
        }
    }
}
