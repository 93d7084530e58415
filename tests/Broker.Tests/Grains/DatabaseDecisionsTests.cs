using OnDemand.Grains.Catalog;
using OnDemand.Grains.Cluster;
using OnDemand.Grains.Database;
using OnDemand.Grains.Interfaces.Catalog;
using OnDemand.Grains.Interfaces.Messages;

namespace OnDemand.Tests.Grains;

/// <summary>What a request does to a database in each state: pure decisions, tested without Orleans or I/O.</summary>
public sealed class DatabaseDecisionsTests
{
    private const string Id = "d-1";
    private static readonly BrokerCatalog Catalog = CatalogLoader.LoadFile(RepositoryPaths.BrokerConfig);
    private static readonly InstanceContext Context = new("cloudfoundry", "org", "space", "my-org", "my-space", "my-db");
    private const string Parameters = """{"cluster":"my-cluster"}""";

    private static DatabaseState State(DatabaseStatus status, OperationKind? failed = null) => new()
    {
        Status = status,
        Spec = new InstanceSpec(Infrastructure.Catalog.PostgreSql, Infrastructure.Catalog.Pg1Gb, Parameters, "1.0.0"),
        Context = Context,
        FailedOperation = failed,
        Operation = new DatabaseOperation { Id = "op-1", State = LastOperationState.InProgress, Description = "waiting for cluster 'my-cluster'" },
    };

    private static ProvisionRequest Create(string parameters = Parameters, string planId = Infrastructure.Catalog.Pg1Gb) =>
        new(Infrastructure.Catalog.PostgreSql, planId, parameters, null, Context, null);

    private static BindRequest Bind(string planId = Infrastructure.Catalog.Pg1Gb, string? app = "app-1") => new(Infrastructure.Catalog.PostgreSql, planId, app, "{}", null);

    [Fact]
    public void A_create_needs_a_database_plan_and_a_cluster_name()
    {
        var fresh = new DatabaseState();
        var ok = DatabaseDecisions.BeforeCreate(fresh, Id, Create(), Catalog);
        Assert.Null(ok.Answer);
        Assert.Equal("my-cluster", ok.ClusterName);
        Assert.Contains("name the cluster", DatabaseDecisions.BeforeCreate(fresh, Id, Create("{}"), Catalog).Answer!.Description);
        Assert.Contains("not a database plan", DatabaseDecisions.BeforeCreate(fresh, Id, Create(planId: Infrastructure.Catalog.PgClusterSmall), Catalog).Answer!.Description);
        // Another org or space only with the space the gateway resolved (and checked the requester's role in).
        Assert.Contains("could not be checked", DatabaseDecisions.BeforeCreate(fresh, Id, Create("""{"cluster":"c","cluster-org":"o","cluster-space":"s"}"""), Catalog).Answer!.Description);
        var shared = DatabaseDecisions.BeforeCreate(fresh, Id, Create("""{"cluster":"c","cluster_space":"s"}""") with { ClusterSpaceGuid = "space-of-c" }, Catalog);
        Assert.Null(shared.Answer);
        Assert.Equal("space-of-c", shared.ClusterSpaceGuid);
        Assert.Equal("space", ok.ClusterSpaceGuid);
        Assert.Contains("name different orgs", DatabaseDecisions.BeforeCreate(fresh, Id, Create("""{"cluster":"c","cluster-org":"o","cluster_org":"p","cluster-space":"s"}"""), Catalog).Answer!.Description);
    }

    [Fact]
    public void A_repeated_create_is_in_progress_already_there_or_in_conflict()
    {
        Assert.Equal(OperationOutcome.InProgress, DatabaseDecisions.BeforeCreate(State(DatabaseStatus.Creating), Id, Create(), Catalog).Answer!.Outcome);
        Assert.Equal(OperationOutcome.AlreadyExists, DatabaseDecisions.BeforeCreate(State(DatabaseStatus.Ready), Id, Create(), Catalog).Answer!.Outcome);
        Assert.Equal(OperationOutcome.Conflict, DatabaseDecisions.BeforeCreate(State(DatabaseStatus.Ready), Id, Create("""{"cluster":"other"}"""), Catalog).Answer!.Outcome);
        Assert.Equal(OperationOutcome.Conflict, DatabaseDecisions.BeforeCreate(State(DatabaseStatus.Deleting), Id, Create(), Catalog).Answer!.Outcome);
        Assert.Null(DatabaseDecisions.BeforeCreate(State(DatabaseStatus.Deleted), Id, Create(), Catalog).Answer);
    }

    [Fact]
    public void An_update_only_renames_and_refuses_plan_and_parameter_changes()
    {
        var ready = State(DatabaseStatus.Ready);
        var rename = new UpdateRequest(Infrastructure.Catalog.PostgreSql, null, null, null, Context with { InstanceName = "renamed" }, null, false);
        var (result, renamed) = DatabaseDecisions.DecideUpdate(ready, Id, rename, Catalog);
        Assert.Equal(OperationOutcome.Completed, result.Outcome);
        Assert.Equal("renamed", renamed!.InstanceName);
        Assert.Equal(OperationOutcome.Completed, DatabaseDecisions.DecideUpdate(State(DatabaseStatus.Creating), Id, rename, Catalog).Result.Outcome);
        Assert.Equal(OperationOutcome.PlanChangeNotSupported,
            DatabaseDecisions.DecideUpdate(ready, Id, rename with { PlanId = Infrastructure.Catalog.PgClusterSmall }, Catalog).Result.Outcome);
        Assert.Equal(OperationOutcome.BadRequest, DatabaseDecisions.DecideUpdate(ready, Id, rename with { ParametersJson = Parameters }, Catalog).Result.Outcome);
        Assert.Equal(OperationOutcome.BadRequest, DatabaseDecisions.DecideUpdate(ready, Id, rename with { ServiceId = Infrastructure.Catalog.MySql }, Catalog).Result.Outcome);
        Assert.Equal(OperationOutcome.NotFound, DatabaseDecisions.DecideUpdate(new DatabaseState(), Id, rename, Catalog).Result.Outcome);
    }

    [Fact]
    public void A_delete_checks_the_ids_and_supersedes_a_create()
    {
        var delete = new DeprovisionRequest(Infrastructure.Catalog.PostgreSql, Infrastructure.Catalog.Pg1Gb, null);
        Assert.Null(DatabaseDecisions.BeforeDelete(State(DatabaseStatus.Creating), Id, delete, Catalog));
        Assert.Null(DatabaseDecisions.BeforeDelete(State(DatabaseStatus.Ready), Id, delete, Catalog));
        Assert.Equal(OperationOutcome.InProgress, DatabaseDecisions.BeforeDelete(State(DatabaseStatus.Deleting), Id, delete, Catalog)!.Outcome);
        Assert.Equal(OperationOutcome.Gone, DatabaseDecisions.BeforeDelete(new DatabaseState(), Id, delete, Catalog)!.Outcome);
        var wrong = DatabaseDecisions.BeforeDelete(State(DatabaseStatus.Ready), Id, delete with { PlanId = Infrastructure.Catalog.PgClusterSmall }, Catalog)!;
        Assert.Equal(OperationOutcome.BadRequest, wrong.Outcome);
        Assert.Contains("pg-1gb", wrong.Description);
    }

    [Fact]
    public void A_bind_finishes_a_pending_binding_and_answers_a_completed_one()
    {
        var ready = State(DatabaseStatus.Ready);
        Assert.Null(DatabaseDecisions.BeforeBind(ready, Id, "b-1", Bind(), Catalog, _ => "{}").Answer);
        ready.Bindings.Add(new BindingRecord { Id = "b-1", ServiceId = Infrastructure.Catalog.PostgreSql, PlanId = Infrastructure.Catalog.Pg1Gb, AppGuid = "app-1", Pending = true });
        var pending = DatabaseDecisions.BeforeBind(ready, Id, "b-1", Bind(), Catalog, _ => "{}");
        Assert.Null(pending.Answer);
        Assert.Same(ready.Bindings[0], pending.Pending);
        ready.Bindings[0].Pending = false;
        Assert.Equal(BindOutcome.Exists, DatabaseDecisions.BeforeBind(ready, Id, "b-1", Bind(), Catalog, _ => "{}").Answer!.Outcome);
        Assert.Equal(BindOutcome.Conflict, DatabaseDecisions.BeforeBind(ready, Id, "b-1", Bind(app: "app-2"), Catalog, _ => "{}").Answer!.Outcome);
        Assert.Equal(BindOutcome.Busy, DatabaseDecisions.BeforeBind(State(DatabaseStatus.Creating), Id, "b-2", Bind(), Catalog, _ => "{}").Answer!.Outcome);
        Assert.Equal(BindOutcome.BadRequest, DatabaseDecisions.BeforeBind(State(DatabaseStatus.Ready), Id, "b-2", Bind(Infrastructure.Catalog.ClusterSmall), Catalog, _ => "{}").Answer!.Outcome);
    }
}
