/**
 * The Execution ARMOR: launches one application command under protection (with the socket shim injected),
 * sees its crash the moment the process exits, restarts it under a {@link dev.armor.execution.RestartBudget},
 * and reports every event to the FTM. Start with {@link dev.armor.execution.ExecutionElement}; the ARMOR is an
 * {@link dev.armor.elements.ArmorActor} hosting that element, installed by a daemon.
 */
package dev.armor.execution;
