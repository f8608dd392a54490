"""The chronic-disease service (门诊慢特病): catalog, applications, auto-certification."""
