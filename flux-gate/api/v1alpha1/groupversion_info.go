// Package v1alpha1 holds the PromotionGate API: a gate that holds the commits Flux's
// image-automation-controller pushes on a proposal branch and promotes one to the
// environment's target branch only when the shared promotion policy passes for it.
//
// +kubebuilder:object:generate=true
// +groupName=promotion-gate.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of PromotionGate.
	GroupVersion = schema.GroupVersion{Group: "promotion-gate.io", Version: "v1alpha1"}

	// SchemeBuilder registers the types of this group version with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the types of this group version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
