namespace HomeIQ.Hosting.ApplicationModel;

/// <summary>A named part of a distributed application: a project, an executable, a server or a value.</summary>
public interface IResource
{
    /// <summary>The resource name; it is also the connection-string and discovery name.</summary>
    string Name { get; }

    /// <summary>Everything declared about the resource.</summary>
    ResourceAnnotationCollection Annotations { get; }
}

/// <summary>Marker for the facts attached to a resource.</summary>
public interface IResourceAnnotation;

/// <summary>The ordered annotations of one resource.</summary>
public sealed class ResourceAnnotationCollection : List<IResourceAnnotation>
{
    /// <summary>All annotations of type <typeparamref name="T"/>, in declaration order.</summary>
    public IEnumerable<T> All<T>() where T : IResourceAnnotation => this.OfType<T>();

    /// <summary>The last annotation of type <typeparamref name="T"/>, or null.</summary>
    public T? Last<T>() where T : class, IResourceAnnotation => this.OfType<T>().LastOrDefault();
}

/// <summary>Base class for resources.</summary>
public abstract class Resource : IResource
{
    /// <summary>Creates a resource, checking that its name is a valid resource name.</summary>
    protected Resource(string name)
    {
        ResourceNames.Validate(name);
        Name = name;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public ResourceAnnotationCollection Annotations { get; } = [];

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>A resource that belongs to another, such as a database on a server.</summary>
public interface IResourceWithParent : IResource
{
    /// <summary>The owning resource.</summary>
    IResource Parent { get; }
}

/// <summary>A resource whose name can be referenced by others and waited for.</summary>
public interface IResourceWithWaitSupport : IResource;

/// <summary>A resource that accepts environment variables.</summary>
public interface IResourceWithEnvironment : IResource;

/// <summary>A resource that accepts command-line arguments.</summary>
public interface IResourceWithArgs : IResource;

/// <summary>A resource with network endpoints.</summary>
public interface IResourceWithEndpoints : IResource;

/// <summary>A resource that exposes a connection string under its name.</summary>
public interface IResourceWithConnectionString : IResource
{
    /// <summary>The connection string as an expression of other values (endpoints, parameters).</summary>
    ReferenceExpression ConnectionStringExpression { get; }

    /// <summary>The name under <c>ConnectionStrings:</c> that a referencing resource receives.</summary>
    string ConnectionStringEnvironmentName => Name;
}

/// <summary>A project whose endpoints are published to referencing services for discovery.</summary>
public interface IResourceWithServiceDiscovery : IResourceWithEndpoints;

/// <summary>Rules for resource names, as Aspire applies them.</summary>
public static class ResourceNames
{
    /// <summary>Throws when <paramref name="name"/> is not a letter followed by letters, digits or hyphens (at most 64).</summary>
    public static void Validate(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var ok = name.Length <= 64 && char.IsAsciiLetter(name[0]) && !name.EndsWith('-') && !name.Contains("--", StringComparison.Ordinal)
                 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
        if (!ok)
        {
            throw new ArgumentException(
                $"'{name}' is not a valid resource name: use an ASCII letter followed by letters, digits or single hyphens, at most 64 characters.",
                nameof(name));
        }
    }
}
