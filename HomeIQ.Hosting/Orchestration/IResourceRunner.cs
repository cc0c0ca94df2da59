using HomeIQ.Hosting.ApplicationModel;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>Starts and stops the processes behind one resource and publishes its state.</summary>
internal interface IResourceRunner
{
    IResource Resource { get; }

    /// <summary>Starts the resource once its dependencies are ready; returns when it is Running.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Stops it; the resource ends Exited.</summary>
    Task StopAsync();
}
