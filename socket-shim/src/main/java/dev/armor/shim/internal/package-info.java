/**
 * The shim runtime: what runs inside an app once the agent started it, loaded by the agent's own class loader
 * together with Byte Buddy, so none of it is visible to the app. {@link dev.armor.shim.internal.ShimRuntime}
 * starts it; the decisions are made by the interceptors ({@code ConnectInterceptor}, {@code BindInterceptor},
 * {@code AcceptInterceptor}), which the inlined advice reaches through {@code HookPoint}s; {@code DaemonClient}
 * talks to the daemon. Not an API: nothing outside this module uses it.
 */
package dev.armor.shim.internal;
