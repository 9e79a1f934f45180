package dev.armor.shim.internal;

import java.lang.invoke.MethodHandle;
import java.lang.reflect.Field;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.description.modifier.FieldManifestation;
import net.bytebuddy.description.modifier.Ownership;
import net.bytebuddy.description.modifier.TypeManifestation;
import net.bytebuddy.description.modifier.Visibility;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.scaffold.subclass.ConstructorStrategy;

/**
 * {@code sun.nio.ch.ArmorShimHooks}: a class with one public static volatile {@code MethodHandle} field per {@link
 * HookPoint} and nothing else, generated here and defined in the boot loader inside {@code sun.nio.ch}, where the
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

  private static byte[] bytes() {
    DynamicType.Builder<Object> builder = new ByteBuddy()
        .subclass(Object.class, ConstructorStrategy.Default.NO_CONSTRUCTORS)
        .name(NAME)
        .modifiers(Visibility.PUBLIC, TypeManifestation.FINAL);
    for (HookPoint point : HookPoint.values()) {
      builder = builder.defineField(point.name(), MethodHandle.class, Visibility.PUBLIC, Ownership.STATIC, FieldManifestation.VOLATILE);
    }
    return builder.make().getBytes();
  }
}
