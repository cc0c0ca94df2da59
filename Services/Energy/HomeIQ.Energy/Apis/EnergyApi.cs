namespace HomeIQ.Energy.Apis;

public static class EnergyApi
{
    public static IEndpointRouteBuilder MapEnergyApi(this IEndpointRouteBuilder app) => app;
}
