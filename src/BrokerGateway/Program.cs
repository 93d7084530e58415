using OnDemand.BrokerGateway;

await GatewayApplication.Build(args).RunAsync();
