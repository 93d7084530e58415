namespace OnDemand.Grains.Interfaces.Catalog;

/// <summary>A cluster plan deploys a dedicated cluster (non-bindable); a database plan lives inside one.</summary>
public enum PlanKind { Cluster, Database }
