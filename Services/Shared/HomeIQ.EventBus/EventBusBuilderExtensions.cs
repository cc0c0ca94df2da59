using HomeIQ.Postgres;
using HomeIQ.Contracts;
using HomeIQ.EventBus.Postgres;
using HomeIQ.EventBus.RabbitMQ;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using RabbitMQ.Client;

namespace HomeIQ.EventBus;

/// <summary>Adds subscriptions and the outbox to a service's event bus.</summary>
public interface IEventBusBuilder
{
    /// <summary>The service collection.</summary>
    IServiceCollection Services { get; }

    /// <summary>Handles <typeparamref name="TEvent"/> with <typeparamref name="THandler"/> (resolved per message from a new scope).</summary>
    IEventBusBuilder AddSubscription<TEvent, THandler>() where TEvent : IntegrationEvent where THandler : class, IIntegrationEventHandler<TEvent>;

    /// <summary>
    /// Handles <typeparamref name="TEvent"/> in batches with <typeparamref name="THandler"/>: deliveries are gathered until
    /// <paramref name="maxBatch"/> are waiting or <paramref name="maxWait"/> passed since the first, then handed over together.
    /// Same queue, retry queues, dead-lettering and trace context as <see cref="AddSubscription{TEvent, THandler}"/>; the
    /// prefetch and concurrency are raised to at least twice <paramref name="maxBatch"/> so the next batch fills while one commits.
    /// </summary>
    IEventBusBuilder AddBatchSubscription<TEvent, THandler>(int maxBatch, TimeSpan maxWait)
        where TEvent : IntegrationEvent where THandler : class, IIntegrationEventBatchHandler<TEvent>;

    /// <summary>
    /// Adds the Postgres outbox (<see cref="Outbox"/>), its relay, and the inbox/outbox tables, in the database of the
    /// service's <see cref="NpgsqlDataSource"/> (register it first with AddNpgsqlDataSource).
    /// </summary>
    IEventBusBuilder AddPostgresOutbox();
}

/// <summary>Registers HomeIQ's RabbitMQ event bus.</summary>
public static class EventBusBuilderExtensions
{
    /// <summary>
    /// Adds the event bus on the RabbitMQ connection <paramref name="connectionName"/> (registered with Aspire's AddRabbitMQClient if it is not yet):
    /// <see cref="IEventBus"/> for publishing, and a consumer for the subscriptions added to the returned builder.
    /// Options come from the <c>EventBus</c> configuration section, then <paramref name="configure"/>; the queue defaults to the service name.
    /// </summary>
    public static IEventBusBuilder AddEventBus(this IHostApplicationBuilder builder, string connectionName, Action<EventBusOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(d => d.ServiceType == typeof(IConnection)))
        {
            builder.AddRabbitMQClient(connectionName,
                // The bus traces its own publish and consume spans (event name, trace context in the headers); the client's would double them.
                settings => settings.DisableTracing = true,
                factory =>
                {
                    factory.ClientProvidedName = builder.Environment.ApplicationName;
                    factory.NetworkRecoveryInterval = TimeSpan.FromSeconds(2);
                });
        }
        var serviceName = builder.Configuration["OTEL_SERVICE_NAME"] ?? builder.Environment.ApplicationName.ToLowerInvariant();
        builder.Services.AddOptions<EventBusOptions>()
            .Configure(o => o.QueueName = serviceName)
            .Bind(builder.Configuration.GetSection("EventBus"))
            .Configure(o => configure?.Invoke(o))
            .ValidateDataAnnotations()
            .Validate(o => o.RetryDelays.Length > 0 && o.RetryDelays.All(d => d > TimeSpan.Zero), "EventBus:RetryDelays needs at least one positive delay.")
            .Validate(o => o.PublishTimeout > TimeSpan.Zero, "EventBus:PublishTimeout must be positive.")
            .ValidateOnStart();
        builder.Services.AddSingleton<RabbitMQEventBus>();
        builder.Services.AddSingleton<IEventBus>(sp => sp.GetRequiredService<RabbitMQEventBus>());
        builder.Services.AddSingleton<ISerializedEventPublisher>(sp => sp.GetRequiredService<RabbitMQEventBus>());
        var subscriptions = new EventSubscriptions();
        builder.Services.AddSingleton(subscriptions);
        builder.Services.AddHostedService<EventConsumer>();
        return new EventBusBuilder(builder.Services, subscriptions);
    }

    private sealed class EventBusBuilder(IServiceCollection services, EventSubscriptions subscriptions) : IEventBusBuilder
    {
        public IServiceCollection Services => services;

        public IEventBusBuilder AddSubscription<TEvent, THandler>() where TEvent : IntegrationEvent where THandler : class, IIntegrationEventHandler<TEvent>
        {
            subscriptions.Add<TEvent, THandler>();
            services.AddScoped<THandler>();
            return this;
        }

        public IEventBusBuilder AddBatchSubscription<TEvent, THandler>(int maxBatch, TimeSpan maxWait)
            where TEvent : IntegrationEvent where THandler : class, IIntegrationEventBatchHandler<TEvent>
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBatch, 512);
            ArgumentOutOfRangeException.ThrowIfLessThan(maxWait, TimeSpan.Zero);
            subscriptions.AddBatch<TEvent, THandler>(maxBatch, maxWait);
            services.AddScoped<THandler>();
            services.PostConfigure<EventBusOptions>(o =>
            {
                o.MaxConcurrency = Math.Max(o.MaxConcurrency, 2 * maxBatch);
                o.PrefetchCount = Math.Max(o.PrefetchCount, 2 * maxBatch);
            });
            return this;
        }

        public IEventBusBuilder AddPostgresOutbox()
        {
            // The schema service is registered before the relay and the consumer's handlers need it: hosted services start in order.
            services.AddPostgresSchema(EventBusSchema.Name, EventBusSchema.Ddl, beforeOtherHostedServices: true);
            services.AddSingleton<Outbox>();
            services.AddSingleton<OutboxRelay>();
            services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
            return this;
        }
    }
}
