using OnDemand.Grains.Catalog;
using OnDemand.Grains.Cluster;
using OnDemand.Grains.Interfaces.Catalog;
using OnDemand.Grains.Interfaces.Messages;

namespace OnDemand.Tests.Grains;

/// <summary>What a request does to a cluster in each state: pure decisions, tested without Orleans or I/O.</summary>
public sealed class ClusterDecisionsTests
{
    private const string Id = "c-1";
    private static readonly BrokerCatalog Catalog = CatalogLoader.LoadFile(RepositoryPaths.BrokerConfig);
    private static readonly InstanceContext Context = new("cloudfoundry", "org", "space", "my-org", "my-space", "my-cluster");

    private static ClusterState State(ClusterStatus status, string planId = Infrastructure.Catalog.ClusterSmall, string parameters = "{}", OperationKind? failed = null) => new()
    {
        Status = status,
        Spec = new InstanceSpec(Infrastructure.Catalog.MySql, planId, parameters, "2.0.0"),
        Context = Context,
        FailedOperation = failed,
        Operation = new ClusterOperation { Id = "op-1", Kind = failed ?? OperationKind.Create, State = status is ClusterStatus.Creating or ClusterStatus.Updating or ClusterStatus.Deleting ? LastOperationState.InProgress : LastOperationState.Succeeded },
    };

    private static ProvisionRequest Create(string parameters = "{}") =>
        new(Infrastructure.Catalog.MySql, Infrastructure.Catalog.ClusterSmall, parameters, null, Context, null);

    private static UpdateRequest Update(string? planId = null, string? parameters = null, InstanceContext? context = null, bool acceptsIncomplete = true) =>
        new(Infrastructure.Catalog.MySql, planId, parameters, null, context, null, acceptsIncomplete);

    private static DeprovisionRequest Delete(string planId = Infrastructure.Catalog.ClusterSmall, string serviceId = Infrastructure.Catalog.MySql) => new(serviceId, planId, null);

    [Fact]
    public void A_create_is_new_repeated_or_in_conflict()
    {
        Assert.Null(ClusterDecisions.BeforeCreate(new ClusterState(), Id, Create()));
        Assert.Equal(OperationOutcome.InProgress, ClusterDecisions.BeforeCreate(State(ClusterStatus.Creating), Id, Create())!.Outcome);
        Assert.Equal(OperationOutcome.Conflict, ClusterDecisions.BeforeCreate(State(ClusterStatus.Creating), Id, Create("""{"max_connections":20}"""))!.Outcome);
        Assert.Equal(OperationOutcome.AlreadyExists, ClusterDecisions.BeforeCreate(State(ClusterStatus.Ready), Id, Create())!.Outcome);
        Assert.Equal(OperationOutcome.Conflict, ClusterDecisions.BeforeCreate(State(ClusterStatus.Failed, failed: OperationKind.Create), Id, Create())!.Outcome);
        Assert.Equal(OperationOutcome.Conflict, ClusterDecisions.BeforeCreate(new ClusterState { ReservedForDatabase = true }, Id, Create())!.Outcome);
    }

    [Theory]
    [InlineData(ClusterStatus.Ready, null)]
    [InlineData(ClusterStatus.Creating, null)]
    [InlineData(ClusterStatus.Updating, null)]
    [InlineData(ClusterStatus.Failed, OperationKind.Update)]
    public void A_rename_is_always_a_synchronous_rename(ClusterStatus status, OperationKind? failed)
    {
        var renamed = Context with { InstanceName = "new-name" };
        var decision = ClusterDecisions.DecideUpdate(State(status, failed: failed), Id, Update(Infrastructure.Catalog.ClusterSmall, "{}", renamed, acceptsIncomplete: false), Catalog);
        Assert.Equal(renamed, Assert.IsType<UpdateDecision.Rename>(decision).Context);
    }

    [Fact]
    public void A_no_op_completes_and_only_a_real_change_needs_accepts_incomplete()
    {
        var ready = State(ClusterStatus.Ready);
        Assert.Equal(OperationOutcome.Completed, Answer(ClusterDecisions.DecideUpdate(ready, Id, Update(parameters: "{}", acceptsIncomplete: false), Catalog)));
        Assert.Equal(OperationOutcome.AsyncRequired, Answer(ClusterDecisions.DecideUpdate(ready, Id, Update(parameters: """{"max_connections":20}""", acceptsIncomplete: false), Catalog)));
        var run = Assert.IsType<UpdateDecision.Run>(ClusterDecisions.DecideUpdate(ready, Id, Update(parameters: """{"max_connections":20}"""), Catalog));
        Assert.Equal(20, JsonNode.Parse(run.Target.ParametersJson)!["max_connections"]!.GetValue<int>());
    }

    [Fact]
    public void After_a_failed_update_the_same_request_runs_again()
    {
        var failed = State(ClusterStatus.Failed, failed: OperationKind.Update);
        Assert.IsType<UpdateDecision.Run>(ClusterDecisions.DecideUpdate(failed, Id, Update(parameters: "{}"), Catalog));
    }

    [Fact]
    public void Refusals_name_what_to_do()
    {
        var ready = State(ClusterStatus.Ready);
        Assert.Equal(OperationOutcome.NotFound, Answer(ClusterDecisions.DecideUpdate(new ClusterState(), Id, Update(), Catalog)));
        var large = State(ClusterStatus.Ready, Infrastructure.Catalog.ClusterLarge);
        Assert.Equal(OperationOutcome.PlanChangeNotSupported, Answer(ClusterDecisions.DecideUpdate(large, Id, Update(Infrastructure.Catalog.ClusterSmall), Catalog)));
        var wrongService = ClusterDecisions.DecideUpdate(ready, Id, Update() with { ServiceId = Infrastructure.Catalog.PostgreSql }, Catalog);
        Assert.Contains("service_id " + Infrastructure.Catalog.MySql, Assert.IsType<UpdateDecision.Answer>(wrongService).Result.Description);
        Assert.Equal(OperationOutcome.ConcurrencyError, Answer(ClusterDecisions.DecideUpdate(State(ClusterStatus.Creating), Id, Update(parameters: """{"max_connections":20}"""), Catalog)));
    }

    [Fact]
    public void While_updating_the_same_update_is_in_progress_and_another_is_busy()
    {
        var updating = State(ClusterStatus.Updating);
        updating.Operation!.Target = new InstanceSpec(Infrastructure.Catalog.MySql, Infrastructure.Catalog.ClusterLarge, "{}", "2.0.0");
        Assert.Equal(OperationOutcome.InProgress, Answer(ClusterDecisions.DecideUpdate(updating, Id, Update(Infrastructure.Catalog.ClusterLarge), Catalog)));
        Assert.Equal(OperationOutcome.ConcurrencyError, Answer(ClusterDecisions.DecideUpdate(updating, Id, Update(parameters: """{"max_connections":20}"""), Catalog)));
    }

    [Fact]
    public void A_delete_starts_where_something_may_have_been_left()
    {
        var triggeredCreate = State(ClusterStatus.Creating);
        triggeredCreate.Pipeline.EverTriggered = true;
        Assert.Equal(OperationStep.AbortBuild, ClusterDecisions.DecideDelete(triggeredCreate, Id, Delete(), Catalog, credentialStoreEnabled: false).FirstStep);
        var ready = State(ClusterStatus.Ready);
        ready.Pipeline.EverTriggered = true;
        Assert.Equal(OperationStep.Unpause, ClusterDecisions.DecideDelete(ready, Id, Delete(), Catalog, false).FirstStep);
        var failedEarly = State(ClusterStatus.Failed, failed: OperationKind.Create);
        Assert.Equal(OperationStep.Done, ClusterDecisions.DecideDelete(failedEarly, Id, Delete(), Catalog, false).FirstStep);
        Assert.Equal(OperationStep.DestroyPipeline, ClusterDecisions.DecideDelete(failedEarly, Id, Delete(), Catalog, credentialStoreEnabled: true).FirstStep);
    }

    [Fact]
    public void A_delete_checks_ids_children_and_running_operations()
    {
        var ready = State(ClusterStatus.Ready);
        Assert.Equal(OperationOutcome.Gone, ClusterDecisions.DecideDelete(new ClusterState(), Id, Delete(), Catalog, false).Answer!.Outcome);
        Assert.Equal(OperationOutcome.BadRequest, ClusterDecisions.DecideDelete(ready, Id, Delete(Infrastructure.Catalog.Db100Mb), Catalog, false).Answer!.Outcome);
        Assert.Equal(OperationOutcome.ConcurrencyError, ClusterDecisions.DecideDelete(State(ClusterStatus.Updating), Id, Delete(), Catalog, false).Answer!.Outcome);
        Assert.Equal(OperationOutcome.InProgress, ClusterDecisions.DecideDelete(State(ClusterStatus.Deleting), Id, Delete(), Catalog, false).Answer!.Outcome);
        ready.Children.Add(new ChildDatabase { InstanceId = "db-1" });
        Assert.Contains("child service instances (guid=db-1)", ClusterDecisions.DecideDelete(ready, Id, Delete(), Catalog, false).Answer!.Description);
    }

    [Fact]
    public void Both_sides_of_a_failed_plan_change_are_accepted()
    {
        var failed = State(ClusterStatus.Failed, failed: OperationKind.Update);
        failed.Operation!.Target = new InstanceSpec(Infrastructure.Catalog.MySql, Infrastructure.Catalog.ClusterLarge, "{}", "2.0.0");
        Assert.Null(ClusterDecisions.DecideDelete(failed, Id, Delete(Infrastructure.Catalog.ClusterLarge), Catalog, false).Answer);
        Assert.Null(ClusterDecisions.DecideDelete(failed, Id, Delete(Infrastructure.Catalog.ClusterSmall), Catalog, false).Answer);
        Assert.Equal(Infrastructure.Catalog.ClusterLarge, ClusterDecisions.DecideDelete(failed, Id, Delete(), Catalog, false).FromPlanId);
    }

    private static OperationOutcome Answer(UpdateDecision decision) => Assert.IsType<UpdateDecision.Answer>(decision).Result.Outcome;
}
