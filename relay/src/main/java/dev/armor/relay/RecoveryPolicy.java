package dev.armor.relay;

/** What a client's connection gets when its server is restarted: chosen per service when it is launched. */
public enum RecoveryPolicy {
  /** Re-attach to the new instance as a fresh connection: bytes the old instance had read but not answered are lost. */
  RECONNECT,
  /**
   * Re-attach and replay the client's whole stream to the new instance, suppressing the part of its output the
   * client already received (checked: a divergent server gets the client's connection reset, never spliced).
   */
  REPLAY
}
