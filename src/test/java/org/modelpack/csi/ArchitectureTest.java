package org.modelpack.csi;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.CompositeArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.modelpack.csi.pull.ModelPuller;
import org.modelpack.csi.registry.RegistryClient;
import org.modelpack.csi.store.archfixture.StoreReachingUpIntoPull;

/**
 * The packages of the driver depend downward only: one look at {@link #TIERS} tells which
 * package may use which, and a change that imports upward fails here rather than in review.
 */
@AnalyzeClasses(packages = ArchitectureTest.ROOT,
    importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
  static final String ROOT = "org.modelpack.csi";

  /**
   * Every package below {@link #ROOT}, bottom tier first (a subpackage belongs to its parent
   * unless listed itself). A package may use its own tier and the tiers below, never one above.
   * A new package is one more name in one row.
   */
  private static final List<List<String>> TIERS = List.of(
      List.of("json", "admin.v1"),  // no project imports: Jackson setup; generated admin gRPC API
      List.of("config"),  // the bottom of the driver proper: only json below it
      List.of("oci", "fs", "concurrent", "error"),
      List.of("modelpack", "mount", "unpack", "registry", "store"),
      List.of("pull"),
      List.of("volume"),
      // metrics, events: observers server wires; dynamic: the in-pod API, behind csi's port
      List.of("csi", "admin", "metrics", "events", "dynamic"),
      List.of("server"),
      List.of("cli", "pack"));

  /**
   * Package → packages it must not use, even where the tiers would allow it: the store gets
   * its bytes through a fetcher it is handed, and the registry client knows nothing of where
   * they go.
   */
  private static final Map<String, List<String>> FORBIDDEN = Map.of(
      "store", List.of("pull", "registry", "volume", "csi"),
      "registry", List.of("store", "pull", "volume"));

  @ArchTest
  static final ArchRule everyPackageHasATier = classes()
      .should().resideInAnyPackage(TIERS.stream().flatMap(List::stream)
          .map(p -> ROOT + "." + p + "..").toArray(String[]::new))
      .as("every class lives in a package listed in ArchitectureTest.TIERS");

  @ArchTest
  static final ArchRule packagesAreFreeOfCycles = slices()
      .assignedFrom(new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass c) {
          return home(c).map(SliceIdentifier::of).orElseGet(SliceIdentifier::ignore);
        }

        @Override
        public String getDescription() {
          return "the packages of ArchitectureTest.TIERS";
        }
      })
      .should().beFreeOfCycles();

  @ArchTest
  static final ArchRule packagesDependOnlyDownward = CompositeArchRule.of(downwardRules())
      .as("packages depend only on their own tier and the tiers below (ArchitectureTest.TIERS)");

  @ArchTest
  static final ArchRule forbiddenPairsStayApart = CompositeArchRule.of(FORBIDDEN.entrySet()
      .stream().map(e -> noClasses().that(inPackages(List.of(e.getKey())))
          .should().dependOnClassesThat(inPackages(e.getValue())))
      .toList())
      .as("packages of one tier stay apart as ArchitectureTest.FORBIDDEN says");

  /** The rules are not vacuous: a store class that imports upward and across fails them. */
  @Test
  void anUpwardImportFailsTheRules() {
    JavaClasses violating = new ClassFileImporter().importClasses(
        StoreReachingUpIntoPull.class, ModelPuller.class, RegistryClient.class);
    assertThatThrownBy(() -> packagesDependOnlyDownward.allowEmptyShould(true).check(violating))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("StoreReachingUpIntoPull").hasMessageContaining("ModelPuller");
    assertThatThrownBy(() -> forbiddenPairsStayApart.allowEmptyShould(true).check(violating))
        .isInstanceOf(AssertionError.class).hasMessageContaining("RegistryClient");
  }

  private static List<ArchRule> downwardRules() {
    List<ArchRule> rules = new ArrayList<>();
    for (int i = 0; i < TIERS.size() - 1; i++) {
      List<String> above = TIERS.subList(i + 1, TIERS.size()).stream()
          .flatMap(List::stream).toList();
      rules.add(noClasses().that(inPackages(TIERS.get(i)))
          .should().dependOnClassesThat(inPackages(above)));
    }
    return rules;
  }

  /** Classes whose {@link #home} is one of {@code packages}. */
  private static DescribedPredicate<JavaClass> inPackages(List<String> packages) {
    return DescribedPredicate.describe("are in " + packages,
        c -> home(c).filter(packages::contains).isPresent());
  }

  /** The listed package a class belongs to: the longest listed name its package starts with. */
  private static Optional<String> home(JavaClass c) {
    String pkg = c.getPackageName();
    return TIERS.stream().flatMap(List::stream)
        .filter(p -> pkg.equals(ROOT + "." + p) || pkg.startsWith(ROOT + "." + p + "."))
        .max(Comparator.comparingInt(String::length));
  }
}
