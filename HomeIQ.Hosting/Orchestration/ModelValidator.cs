using HomeIQ.Hosting.ApplicationModel;

namespace HomeIQ.Hosting.Orchestration;

/// <summary>Checks the model before anything starts: every referenced resource exists and waits have no cycle.</summary>
internal static class ModelValidator
{
    public static void Validate(IReadOnlyList<IResource> resources)
    {
        var known = resources.ToHashSet();
        foreach (var resource in resources)
        {
            foreach (var other in Dependencies(resource).Concat(resource.Annotations.All<ResourceRelationshipAnnotation>().Select(r => r.Resource)))
            {
                if (!known.Contains(other))
                {
                    throw new DistributedApplicationException(
                        $"Resource '{resource.Name}' refers to '{other.Name}', which is not part of this application. Add it with the same builder.");
                }
            }
        }
        var state = new Dictionary<IResource, int>();
        var path = new Stack<IResource>();
        foreach (var resource in resources)
        {
            Visit(resource);
        }

        void Visit(IResource r)
        {
            if (state.GetValueOrDefault(r) == 2)
            {
                return;
            }
            if (state.GetValueOrDefault(r) == 1)
            {
                var cycle = path.Reverse().SkipWhile(x => x != r).Select(x => x.Name).Append(r.Name);
                throw new DistributedApplicationException($"The resources wait for each other in a cycle: {string.Join(" → ", cycle)}. Remove one of these WaitFor calls.");
            }
            state[r] = 1;
            path.Push(r);
            foreach (var d in Dependencies(r))
            {
                Visit(d);
            }
            path.Pop();
            state[r] = 2;
        }
    }

    /// <summary>What a resource must wait for: its explicit waits, and its parent (a database waits for its server).</summary>
    public static IEnumerable<IResource> Dependencies(IResource resource)
    {
        foreach (var wait in resource.Annotations.All<WaitAnnotation>())
        {
            yield return wait.Resource;
        }
        if (resource is IResourceWithParent child)
        {
            yield return child.Parent;
        }
    }
}
