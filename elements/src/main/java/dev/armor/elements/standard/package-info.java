/**
 * The standard elements shared across ARMORs. {@link dev.armor.elements.standard.AppServerDb} (APP_SERVER_DB,
 * hosted by the FTM) maps service addresses to the ARMORs that serve them and recognises recoveries. The proxy
 * elements APP_COMM_SERVER and APP_COMM_CLIENT live with the data plane in the daemon module.
 */
package dev.armor.elements.standard;
