using Microsoft.Extensions.Options;
using OnDemand.BrokerGateway.Osb;
using OnDemand.Grains.Hosting;

namespace OnDemand.BrokerGateway.Operator;

/// <summary>Operator Basic auth (Broker__OperatorUsername / Broker__OperatorPassword) for every /operator route; failures are
/// rate-limited per client address like every other authentication.</summary>
public sealed class OperatorAuth(IOptions<GatewaySettings> settings) : IEndpointFilter
{
    private readonly BasicCredentials _operators = new(settings.Value.OperatorUsername, settings.Value.OperatorPassword);
    private readonly bool _enabled = settings.Value.OperatorPassword.Length > 0;

    public string Username => _operators.Username;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        if (_enabled && _operators.Match(request.Headers.Authorization)) return await next(context);
        // A failure counts towards the client address's limit, as on every other authenticated route (docs/security.md).
        return new AuthRejection(OperatorGate.Realm, _enabled
            ? "operator credentials required (Basic auth)"
            : "the operator API is disabled: set Broker__OperatorPassword");
    }
}
