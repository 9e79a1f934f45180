package dev.armor.shim.internal;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/**
 * {@code sun.nio.ch.ArmorShimHooks}: a class with one public static volatile {@code MethodHandle} field per {@link
 * HookPoint} and nothing else, written here and defined in the boot loader inside {@code sun.nio.ch}, where the
 * advice inlined into {@code java.base} can see it. Its only types are JDK types, so it drags nothing of the shim
 * into {@code java.base}; the handles point into the shim's own class loader.
 *
 * <p>A JVM can hold one: a second shim (another copy of the agent jar) finds it defined and stays out.
 */
final class HookClass {
  static final String NAME = "sun.nio.ch.ArmorShimHooks";

  private HookClass() {}

  /**
   * Defines the hook class.
   *
   * @throws IllegalStateException another Armor shim already defined it in this JVM
   */
  static Class<?> define(JdkInternals jdk) throws ReflectiveOperationException {
    if (isDefined()) {
      throw new IllegalStateException("another Armor socket shim is already installed in this JVM");
    }
    return jdk.defineInSunNioCh(bytes());
  }

  /** Points the hook {@code point} at {@code handle}, whose type must be exactly the hook's. */
  static void set(Class<?> hooks, HookPoint point, MethodHandle handle) throws ReflectiveOperationException {
    if (!handle.type().equals(point.type())) {
      throw new IllegalArgumentException(point + " must have type " + point.type() + ", but was " + handle.type());
    }
    field(hooks, point).set(null, handle);
  }

  static Field field(Class<?> hooks, HookPoint point) throws NoSuchFieldException {
    return hooks.getField(point.name());
  }

  /** True when a shim already defined the hook class in this JVM. */
  static boolean isDefined() {
    try {
      JdkInternals.bootClass(NAME);
      return true;
    } catch (ClassNotFoundException e) {
      return false;
    }
  }

  /**
   * The class file, written by hand: a public final class (version 55) with no methods (it is never instantiated)
   * and one field per hook. Not with ASM: even Byte Buddy's bundled ASM would load Byte Buddy classes, which the
   * cached start ({@link CachedTransformations}) must not; and not with Byte Buddy's {@code subclass()}, which loads
   * about a thousand classes and doubled the agent's start time.
   */
  static byte[] bytes() {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
      DataOutputStream out = new DataOutputStream(bytes);
      HookPoint[] points = HookPoint.values();
      out.writeInt(0xCAFEBABE);
      out.writeShort(0); // minor
      out.writeShort(55); // Java 11
      out.writeShort(6 + points.length); // constant pool count: entries 1..5 and one name per hook
      out.writeByte(1); // #1 Utf8
      out.writeUTF(NAME.replace('.', '/'));
      out.writeByte(7); // #2 Class #1
      out.writeShort(1);
      out.writeByte(1); // #3 Utf8
      out.writeUTF("java/lang/Object");
      out.writeByte(7); // #4 Class #3
      out.writeShort(3);
      out.writeByte(1); // #5 Utf8
      out.writeUTF(MethodHandle.class.descriptorString());
      for (HookPoint point : points) { // #6...
        out.writeByte(1);
        out.writeUTF(point.name());
      }
      out.writeShort(Modifier.PUBLIC | Modifier.FINAL | 0x0020); // ACC_SUPER
      out.writeShort(2); // this
      out.writeShort(4); // super
      out.writeShort(0); // interfaces
      out.writeShort(points.length);
      for (int i = 0; i < points.length; i++) {
        out.writeShort(Modifier.PUBLIC | Modifier.STATIC | Modifier.VOLATILE);
        out.writeShort(6 + i);
        out.writeShort(5);
        out.writeShort(0); // attributes
      }
      out.writeShort(0); // methods
      out.writeShort(0); // attributes
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

}
