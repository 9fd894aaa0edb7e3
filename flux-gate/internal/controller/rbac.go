package controller

// The permissions flux-gate needs, as controller-gen RBAC markers
// (hack/flux-generate.sh writes them to config/rbac/role.yaml):
// its own objects; the automations it gates (patch only to request a new run); their
// GitRepositories (also those branch promotions name, watched for new revisions) and
// credentials; the policy ConfigMaps and the Secrets and ConfigMaps
// the policy names as trust material (keys, trusted roots); the ImagePolicies and
// ImageRepositories behind setter markers, with their pull Secrets and ServiceAccounts,
// for registry credentials; events; leader election.
//
// +kubebuilder:rbac:groups=promotion-gate.io,resources=promotiongates,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=promotion-gate.io,resources=promotiongates/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=image.toolkit.fluxcd.io,resources=imageupdateautomations,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=source.toolkit.fluxcd.io,resources=gitrepositories,verbs=get;list;watch
// +kubebuilder:rbac:groups=image.toolkit.fluxcd.io,resources=imagepolicies;imagerepositories,verbs=get
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get
// +kubebuilder:rbac:groups="",resources=serviceaccounts,verbs=get
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
