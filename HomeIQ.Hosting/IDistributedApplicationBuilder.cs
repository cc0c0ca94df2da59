using HomeIQ.Hosting.ApplicationModel;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HomeIQ.Hosting;

/// <summary>Builds a distributed application: its resources, configuration and services.</summary>
public interface IDistributedApplicationBuilder
{
    /// <summary>The AppHost configuration: appsettings, user secrets, environment, command line.</summary>
    ConfigurationManager Configuration { get; }

    /// <summary>Services of the AppHost process itself.</summary>
    IServiceCollection Services { get; }

    /// <summary>The AppHost environment.</summary>
    IHostEnvironment Environment { get; }

    /// <summary>The directory of the AppHost project.</summary>
    string AppHostDirectory { get; }

    /// <summary>Run or publish.</summary>
    DistributedApplicationExecutionContext ExecutionContext { get; }

    /// <summary>Every declared resource, in declaration order.</summary>
    IResourceCollection Resources { get; }

    /// <summary>Adds a resource; its name must be unique (case-insensitive).</summary>
    IResourceBuilder<T> AddResource<T>(T resource) where T : IResource;

    /// <summary>A builder for a resource that is already part of the model.</summary>
    IResourceBuilder<T> CreateResourceBuilder<T>(T resource) where T : IResource;

    /// <summary>Builds the application.</summary>
    DistributedApplication Build();
}

/// <summary>Configures one resource.</summary>
public interface IResourceBuilder<out T> where T : IResource
{
    /// <summary>The application builder.</summary>
    IDistributedApplicationBuilder ApplicationBuilder { get; }

    /// <summary>The resource.</summary>
    T Resource { get; }

    /// <summary>Adds an annotation.</summary>
    IResourceBuilder<T> WithAnnotation<TAnnotation>(TAnnotation annotation) where TAnnotation : IResourceAnnotation;
}

/// <summary>The resources of an application.</summary>
public interface IResourceCollection : IReadOnlyList<IResource>
{
    /// <summary>The resource with that name (case-insensitive), or null.</summary>
    IResource? Find(string name);
}

internal sealed class ResourceBuilder<T>(IDistributedApplicationBuilder applicationBuilder, T resource) : IResourceBuilder<T> where T : IResource
{
    public IDistributedApplicationBuilder ApplicationBuilder { get; } = applicationBuilder;

    public T Resource { get; } = resource;

    public IResourceBuilder<T> WithAnnotation<TAnnotation>(TAnnotation annotation) where TAnnotation : IResourceAnnotation
    {
        Resource.Annotations.Add(annotation);
        return this;
    }
}

internal sealed class ResourceCollection : List<IResource>, IResourceCollection
{
    public IResource? Find(string name) => this.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.OrdinalIgnoreCase));
}
