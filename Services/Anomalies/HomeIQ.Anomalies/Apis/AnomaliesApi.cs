namespace HomeIQ.Anomalies.Apis;

public static class AnomaliesApi
{
    public static IEndpointRouteBuilder MapAnomaliesApi(this IEndpointRouteBuilder app) => app;
}
