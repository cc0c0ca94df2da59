namespace HomeIQ.Tests.Hosting;

/// <summary>Connection-string formats of ASPIRE-CONTRACT.md, with endpoints and passwords set by hand.</summary>
public sealed class ConnectionStringTests
{
    private static T WithEndpoint<T>(T server, int port, string password) where T : ServerResource
    {
        server.Annotations.Add(new EndpointAnnotation(ServerResource.PrimaryEndpointName, "tcp", "tcp", null, server.TargetPort));
        server.Annotations.OfType<EndpointAnnotation>().Single().AllocatedEndpoints.Add(new AllocatedEndpoint("tcp", "127.0.0.1", port));
        server.PasswordParameter.Value = password;
        return server;
    }

    [Fact]
    public async Task PostgresServerAndDatabaseFollowTheNpgsqlFormat()
    {
        var server = WithEndpoint(new PostgresServerResource("postgres", new ParameterResource("postgres-password", true)), 5433, "pw123");
        var db = new PostgresDatabaseResource("devicesdb", "devicesdb", server);

        Assert.Equal("Host=127.0.0.1;Port=5433;Username=postgres;Password=pw123", await server.ConnectionStringExpression.GetValueAsync(TestContext.Current.CancellationToken));
        Assert.Equal("Host=127.0.0.1;Port=5433;Username=postgres;Password=pw123;Database=devicesdb", await db.ConnectionStringExpression.GetValueAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task RedisCarriesItsPassword()
    {
        var redis = WithEndpoint(new RedisResource("cache", new ParameterResource("cache-password", true)), 6380, "secret");

        Assert.Equal("127.0.0.1:6380,password=secret", await redis.ConnectionStringExpression.GetValueAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task RabbitMqIsAnAmqpUriWithTheUserAndPasswordEscaped()
    {
        var rabbit = WithEndpoint(new RabbitMQServerResource("messaging", new ParameterResource("messaging-password", true)) { UserName = "home iq" }, 5673, "p@ss/word:1");

        var cs = await rabbit.ConnectionStringExpression.GetValueAsync(TestContext.Current.CancellationToken);

        Assert.Equal("amqp://home%20iq:p%40ss%2Fword%3A1@127.0.0.1:5673", cs);
        var uri = new Uri(cs!);
        Assert.Equal("p@ss/word:1", Uri.UnescapeDataString(uri.UserInfo.Split(':')[1]));
    }

    [Fact]
    public void ManifestExpressionsNameBindingsAndParameters()
    {
        var server = new PostgresServerResource("postgres", new ParameterResource("postgres-password", true));
        var db = new PostgresDatabaseResource("devicesdb", "devicesdb", server);

        Assert.Equal("Host={postgres.bindings.tcp.host};Port={postgres.bindings.tcp.port};Username=postgres;Password={postgres-password.value}",
            server.ConnectionStringExpression.ValueExpression);
        Assert.Equal("{postgres.connectionString};Database=devicesdb", db.ConnectionStringExpression.ValueExpression);
    }

    [Fact]
    public void GeneratedPasswordsAreLongAndDifferent()
    {
        var passwords = Enumerable.Range(0, 20).Select(_ => HomeIQ.Hosting.Orchestration.PasswordGenerator.Generate(new GenerateParameterDefault())).ToList();

        Assert.All(passwords, p => Assert.True(p.Length >= 22));
        Assert.All(passwords, p => Assert.Matches("^[A-Za-z0-9]+$", p));
        Assert.Equal(passwords.Count, passwords.Distinct().Count());
    }
}
