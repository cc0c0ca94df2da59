using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace HomeIQ.ServiceDefaults.Errors;

/// <summary>
/// A request body's charset that .NET does not know is the client's mistake: 415 naming it, instead of the 500 that the
/// JSON binder's encoding lookup throws. A quoted charset (<c>charset="utf-8"</c>), which the binder also fails on, is unquoted.
/// </summary>
public static class RequestCharset
{
    /// <summary>Adds the check; call it before the endpoints.</summary>
    public static IApplicationBuilder UseRequestCharsetCheck(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var contentType = context.Request.ContentType;
        if (contentType is null || !contentType.Contains("charset", StringComparison.OrdinalIgnoreCase)
            || !MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            || !mediaType.Parameters.Any(p => p.Name.Equals("charset", StringComparison.OrdinalIgnoreCase)))
        {
            await next(context).ConfigureAwait(false);
            return;
        }
        var charset = HeaderUtilities.RemoveQuotes(mediaType.Charset).ToString();
        if (!IsKnown(charset))
        {
            await Results.Problem(title: "Unsupported media type", detail: $"The charset '{charset}' is not supported; send UTF-8.",
                statusCode: StatusCodes.Status415UnsupportedMediaType).ExecuteAsync(context).ConfigureAwait(false);
            return;
        }
        if (mediaType.Charset.Value != charset)
        {
            mediaType.Charset = charset;
            context.Request.ContentType = mediaType.ToString();
        }
        await next(context).ConfigureAwait(false);
    });

    private static bool IsKnown(string charset)
    {
        try
        {
            return charset.Length > 0 && Encoding.GetEncoding(charset) is not null;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
