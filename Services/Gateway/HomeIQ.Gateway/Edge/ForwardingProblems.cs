using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Model;

namespace HomeIQ.Gateway.Edge;

/// <summary>
/// Gives YARP's bare error statuses a ProblemDetails body that says which service failed and whose fault it is: a body the
/// client broke is its 400, a service that cannot be reached is 503 with Retry-After, one that did not answer in time 504.
/// </summary>
internal static class ForwardingProblems
{
    public static async Task DescribeAsync(HttpContext context, Func<Task> next)
    {
        await next();
        if (context.GetForwarderErrorFeature() is not { } failure || context.Response.HasStarted)
        {
            return;
        }
        var service = context.GetReverseProxyFeature().Route.Cluster?.ClusterId ?? "routed";
        var tooLarge = Chain(failure.Exception).OfType<BadHttpRequestException>().FirstOrDefault(e => e.StatusCode == StatusCodes.Status413PayloadTooLarge);
        if (tooLarge is not null)
        {
            await Results.Problem(title: "Payload too large", detail: tooLarge.Message, statusCode: tooLarge.StatusCode).ExecuteAsync(context);
            return;
        }
        var (status, detail) = failure.Error switch
        {
            ForwarderError.RequestBodyClient or ForwarderError.UpgradeRequestClient when context.Response.StatusCode is >= 400 and < 500 =>
                (context.Response.StatusCode, "The request body could not be read."),
            ForwarderError.RequestBodyClient or ForwarderError.UpgradeRequestClient => (StatusCodes.Status400BadRequest, "The request body could not be read."),
            ForwarderError.RequestTimedOut => (StatusCodes.Status504GatewayTimeout, $"The {service} service did not answer in time."),
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled => (StatusCodes.Status400BadRequest, "The request was cancelled."),
            _ => (StatusCodes.Status503ServiceUnavailable, $"The {service} service is unavailable."),
        };
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            context.Response.Headers.RetryAfter = "1";
        }
        await Results.Problem(detail: detail, statusCode: status).ExecuteAsync(context);
    }

    private static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }
}
